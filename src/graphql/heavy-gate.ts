import { RateLimited } from '../errors';
import { removeWaiting } from './waiting-lists';

export interface HeavyGateOptions {
  /** Heavy operations the whole process runs at once. */
  atOnce: number;
  /**
   * The share of the time heavy operations may run, from 0 to 1: after one that ran `d` ms, the
   * next starts no sooner than `d × (1 / share − 1)` ms later.
   */
  share: number;
  /** How long a heavy operation waits for its turn before it is refused. */
  waitMs: number;
  /** Heavy operations one account may have waiting; one more is refused at once. */
  maxWaitingPerAccount: number;
  /** Milliseconds since the epoch (the app's clock). */
  now(): number;
}

interface Waiter {
  resolve(): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Turns for heavy operations (those whose cost is near the limit), for the whole process. A heavy
 * operation keeps the event loop busy for a second or more (a page of 99 × 100 deliveries with their
 * events is about 10,000 objects to read, build and serialize), and everyone's requests and
 * deliveries share that loop. So, however many accounts send them: only `atOnce` run; they run at
 * most `share` of the time (a pause after each, in proportion to how long it ran); and the turns go
 * round the accounts that wait, so one account's queue never stands before another's.
 */
export class HeavyGate {
  private running = 0;
  /** When the pause after the last heavy operation ends. */
  private pauseUntil = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  /** Waiting operations per account, in arrival order; the map's order is the order of turns. */
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly options: HeavyGateOptions) {}

  /**
   * Resolves with the function that gives the turn back, once the operation may run. Rejects with
   * `RateLimited` after `waitMs` (at once with too many of the account's waiting), unless `patient`.
   */
  enter(accountId: string, patient = false): Promise<() => void> {
    if (this.waiting.size === 0 && this.free()) return Promise.resolve(this.take());
    const queue = this.waiting.get(accountId) ?? [];
    if (!patient && queue.length >= this.options.maxWaitingPerAccount) return Promise.reject(this.refusal());
    this.waiting.set(accountId, queue);
    return new Promise<() => void>((resolve, reject) => {
      const waiter: Waiter = { resolve: () => resolve(this.take()), timer: undefined };
      if (!patient) {
        waiter.timer = setTimeout(() => {
          removeWaiting(this.waiting, accountId, waiter);
          reject(this.refusal());
        }, this.options.waitMs);
      }
      queue.push(waiter);
      this.wakeLater();
    });
  }

  private free(): boolean {
    return this.running < this.options.atOnce && this.options.now() >= this.pauseUntil;
  }

  private take(): () => void {
    this.running += 1;
    const startedAt = this.options.now();
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.running -= 1;
      const now = this.options.now();
      this.pauseUntil = Math.max(this.pauseUntil, now + (now - startedAt) * (1 / this.options.share - 1));
      this.wake();
    };
  }

  /** Hands free turns to the waiters, the accounts in turn; or waits for the pause to end. */
  private wake(): void {
    while (this.waiting.size > 0 && this.free()) {
      const [accountId, queue] = this.waiting.entries().next().value as [string, Waiter[]];
      const waiter = queue.shift()!;
      // The account goes to the back of the turns.
      this.waiting.delete(accountId);
      if (queue.length > 0) this.waiting.set(accountId, queue);
      clearTimeout(waiter.timer);
      waiter.resolve();
    }
    this.wakeLater();
  }

  private wakeLater(): void {
    if (this.waiting.size === 0 || this.pauseTimer || this.running >= this.options.atOnce) return;
    const inMs = this.pauseUntil - this.options.now();
    if (inMs <= 0) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      this.wake();
    }, inMs);
    this.pauseTimer.unref();
  }

  private refusal(): RateLimited {
    const seconds = Math.max(1, Math.ceil((this.pauseUntil - this.options.now()) / 1000));
    return new RateLimited(
      'Too many heavy operations on this server (a query cost near the limit). Retry later, or ask for less at once.',
      seconds,
    );
  }
}
