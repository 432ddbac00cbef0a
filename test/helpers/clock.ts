import { Clock } from '../../src/clock';

/** A clock the test moves by hand: `advance(ms)`; starts at the DeskForge example's date. */
export class ManualClock implements Clock {
  constructor(private current = Date.parse('2024-01-20T10:00:00.000Z')) {}

  now(): Date {
    return new Date(this.current);
  }

  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * Real time moved by `offsetMs`: time still passes on its own (the delivery engine's timers fire),
 * but a test can make what happens now look as if it happened hours ago.
 */
export class ShiftedClock implements Clock {
  offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
