import { CommittedEvent } from '../event-bus';
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
  /**
   * The events this commit stored, with their positions: the feed reader may publish them without
   * reading them back (`FeedReader.offer`). `feedChanged` follows, so the read happens all the same.
   */
  eventsCommitted(events: readonly CommittedEvent[]): void;
  /** Deliveries became due (new ones, or redeliveries): a worker in this process claims now. */
  deliveriesDue(): void;
}

/** Signals nobody listens to (the account CLI, tests of one service). */
export const noSignals: CommitSignals = { feedChanged: () => undefined, eventsCommitted: () => undefined, deliveriesDue: () => undefined };

/** Signals that call whatever is attached later (the composition root attaches the reader and the worker). */
export class SignalHub implements CommitSignals {
  private readonly feedListeners = new Set<(changes: readonly ChangeEntry[]) => void>();
  private readonly eventListeners = new Set<(events: readonly CommittedEvent[]) => void>();
  private readonly workListeners = new Set<() => void>();

  feedChanged(changes: readonly ChangeEntry[] = []): void {
    for (const listener of this.feedListeners) listener(changes);
  }

  eventsCommitted(events: readonly CommittedEvent[]): void {
    for (const listener of this.eventListeners) listener(events);
  }

  deliveriesDue(): void {
    for (const listener of this.workListeners) listener();
  }

  onFeedChanged(listener: (changes: readonly ChangeEntry[]) => void): () => void {
    this.feedListeners.add(listener);
    return () => this.feedListeners.delete(listener);
  }

  onEventsCommitted(listener: (events: readonly CommittedEvent[]) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  onDeliveriesDue(listener: () => void): () => void {
    this.workListeners.add(listener);
    return () => this.workListeners.delete(listener);
  }
}
