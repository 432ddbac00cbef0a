export interface LaneLimits {
  /** Tasks running at once, all lanes together. */
  concurrency: number;
  /** Tasks running at once in one lane. */
  perLane: number;
}

interface Lane<T> {
  key: string;
  waiting: T[];
  running: number;
  /** In `ready`: it has waiting tasks and room under its own cap. */
  ready: boolean;
}

/**
 * Runs tasks under two caps: `concurrency` in all and `perLane` per lane (for the dispatcher, a lane
 * is a webhook). A lane at its own cap waits without holding any global slot, so one slow lane takes
 * at most its share while the others go on. Lanes with waiting tasks take free slots in turn (round
 * robin); within a lane tasks start in the order they were pushed. Bookkeeping is a few counters
 * per task: this is on the path of every delivery attempt.
 */
export class LaneScheduler<T> {
  private readonly lanes = new Map<string, Lane<T>>();
  /** Lanes that may start a task, in the order they get the next free slots. */
  private ready: Array<Lane<T>> = [];
  private waitingCount = 0;
  private runningCount = 0;

  /** @param run runs one task; its slots are free again when the promise settles. */
  constructor(
    private readonly limits: LaneLimits,
    private readonly run: (task: T) => Promise<void>,
  ) {}

  /** Tasks pushed and not started. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Tasks started and not settled. */
  get running(): number {
    return this.runningCount;
  }

  push(laneKey: string, task: T): void {
    let lane = this.lanes.get(laneKey);
    if (!lane) {
      lane = { key: laneKey, waiting: [], running: 0, ready: false };
      this.lanes.set(laneKey, lane);
    }
    lane.waiting.push(task);
    this.waitingCount += 1;
    this.markReady(lane);
    this.startWhatFits();
  }

  /** Drops every task not started yet (running ones go on). */
  clear(): void {
    for (const lane of this.lanes.values()) {
      lane.waiting = [];
      lane.ready = false;
      if (lane.running === 0) this.lanes.delete(lane.key);
    }
    this.ready = [];
    this.waitingCount = 0;
  }

  private markReady(lane: Lane<T>): void {
    if (!lane.ready && lane.waiting.length > 0 && lane.running < this.limits.perLane) {
      lane.ready = true;
      this.ready.push(lane);
    }
  }

  private startWhatFits(): void {
    while (this.runningCount < this.limits.concurrency && this.ready.length > 0) {
      const lane = this.ready.shift()!;
      lane.ready = false;
      const task = lane.waiting.shift()!;
      this.waitingCount -= 1;
      this.runningCount += 1;
      lane.running += 1;
      this.markReady(lane);
      const settle = () => this.settle(lane);
      this.run(task).then(settle, settle);
    }
  }

  private settle(lane: Lane<T>): void {
    this.runningCount -= 1;
    lane.running -= 1;
    if (lane.running === 0 && lane.waiting.length === 0) this.lanes.delete(lane.key);
    else this.markReady(lane);
    this.startWhatFits();
  }
}
