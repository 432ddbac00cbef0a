import { ChangeEntry } from './change-log';

/**
 * In-process wake-ups after a commit. They are a fast path only: every reader of the feed and every
 * worker also polls the tables, so work committed by another process (or a signal lost in a crash)
 * is found all the same, a poll interval later.
 */
export interface CommitSignals {
  /**
   * Rows were appended to the feed (events or changes): the feed reader reads them now. `changes`
   * are the changes this commit appended, for this process's caches, which must not wait even the
   * read (a cache may hear of a change twice; subscribers hear of it once, from the feed).
   */
  feedChanged(changes?: readonly ChangeEntry[]): void;
  /** Deliveries became due (new ones, or redeliveries): a worker in this process claims now. */
  deliveriesDue(): void;
}

/** Signals nobody listens to (the account CLI, tests of one service). */
export const noSignals: CommitSignals = { feedChanged: () => undefined, deliveriesDue: () => undefined };

/** Signals that call whatever is attached later (the composition root attaches the reader and the worker). */
export class SignalHub implements CommitSignals {
  private readonly feedListeners = new Set<(changes: readonly ChangeEntry[]) => void>();
  private readonly workListeners = new Set<() => void>();

  feedChanged(changes: readonly ChangeEntry[] = []): void {
    for (const listener of this.feedListeners) listener(changes);
  }

  deliveriesDue(): void {
    for (const listener of this.workListeners) listener();
  }

  onFeedChanged(listener: (changes: readonly ChangeEntry[]) => void): () => void {
    this.feedListeners.add(listener);
    return () => this.feedListeners.delete(listener);
  }

  onDeliveriesDue(listener: () => void): () => void {
    this.workListeners.add(listener);
    return () => this.workListeners.delete(listener);
  }
}
