import { RateLimited } from '../errors';
import { removeWaiting } from './waiting-lists';

export interface AccountGateOptions {
  /** Operations one account may execute at once (8: API.md §3). */
  perAccount: number;
  /** How long an operation over the bound waits for a slot before it is refused. */
  waitMs: number;
  /** Operations that may wait per account; one more is refused at once. */
  maxWaiting: number;
}

interface Waiter {
  resolve(): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * At most `perAccount` operations of one account execute at once, over HTTP, WebSocket and REST
 * together: queries, mutations, and the work of its subscriptions' events and replays. One account
 * can then hold only its share of the CPU, the readers and the pool, whatever it sends. An
 * operation over the bound waits briefly, first come first served, and is then refused
 * (`RateLimited`); subscription work waits as long as it takes (`patient`), since an event cannot be
 * refused, and its bounded buffer stops it from piling up.
 */
export class AccountGate {
  private readonly running = new Map<string, number>();
  private readonly waiting = new Map<string, Waiter[]>();

  constructor(private readonly options: AccountGateOptions) {}

  /** Takes a slot if one is free now; `leave` gives it back. */
  tryEnter(accountId: string): boolean {
    const running = this.running.get(accountId) ?? 0;
    if (running >= this.options.perAccount) return false;
    this.running.set(accountId, running + 1);
    return true;
  }

  /**
   * Takes a slot, waiting for one: at most `waitMs` and behind at most `maxWaiting` others, then
   * rejects with `RateLimited`; with `patient`, as long as it takes.
   */
  enter(accountId: string, patient = false): Promise<void> {
    if (this.tryEnter(accountId)) return Promise.resolve();
    const queue = this.waiting.get(accountId) ?? [];
    if (!patient && queue.length >= this.options.maxWaiting) return Promise.reject(this.refusal());
    this.waiting.set(accountId, queue);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, timer: undefined };
      if (!patient) {
        waiter.timer = setTimeout(() => {
          removeWaiting(this.waiting, accountId, waiter);
          reject(this.refusal());
        }, this.options.waitMs);
      }
      queue.push(waiter);
    });
  }

  /** Gives a slot back: to the account's first waiter, if any. */
  leave(accountId: string): void {
    const queue = this.waiting.get(accountId);
    const next = queue?.shift();
    if (queue?.length === 0) this.waiting.delete(accountId);
    if (next) {
      clearTimeout(next.timer);
      next.resolve();
      return;
    }
    const running = (this.running.get(accountId) ?? 1) - 1;
    if (running > 0) this.running.set(accountId, running);
    else this.running.delete(accountId);
  }

  /**
   * Runs `work` in a slot and gives it back when the work settles. When a slot is free and the work
   * returns a plain value, it all happens synchronously: a live event's execution stays on the
   * publisher's stack (see `SharedStream`).
   */
  run<T>(accountId: string, work: () => T | Promise<T>, patient = false): T | Promise<T> {
    if (!this.tryEnter(accountId)) {
      return this.enter(accountId, patient).then(() => this.settle(accountId, work));
    }
    return this.settle(accountId, work);
  }

  /** Operations of `accountId` executing now. */
  runningFor(accountId: string): number {
    return this.running.get(accountId) ?? 0;
  }

  private settle<T>(accountId: string, work: () => T | Promise<T>): T | Promise<T> {
    let result: T | Promise<T>;
    try {
      result = work();
    } catch (error) {
      this.leave(accountId);
      throw error;
    }
    if (result instanceof Promise) {
      return result.finally(() => this.leave(accountId));
    }
    this.leave(accountId);
    return result;
  }

  private refusal(): RateLimited {
    return new RateLimited(
      `Too many operations at once: an account may run ${this.options.perAccount} at a time. Retry after a second.`,
      RETRY_AFTER_SECONDS,
    );
  }
}

/** What a refused client is told to wait: an operation usually finishes well within a second. */
const RETRY_AFTER_SECONDS = 1;
