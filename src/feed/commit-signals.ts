import { CommittedEvent } from '../event-bus';
import { ChangeEntry } from './change-log';

/**
 * In-process wake-ups after a commit. They are a fast path only: every reader of the feed and every
 * worker also polls the tables, so work committed by another process (or a signal lost in a crash)
 * is found all the same, a poll interval later.
 */
export interface CommitSignals {
  /**
   * Changes were appended to the feed: the feed reader reads them now. `changes` are the ones this
   * commit appended, for this process's caches, which must not wait even the read (a cache may hear
   * of a change twice; subscribers hear of it once, from the feed).
   */
  feedChanged(changes: readonly ChangeEntry[]): void;
  /**
   * The events this commit stored, with their positions: the feed reader publishes them without
   * reading them back, or reads the feed if another process committed in between (`FeedReader.offer`).
   */
  eventsCommitted(events: readonly CommittedEvent[]): void;
  /** Deliveries became due (new ones, or redeliveries): a worker in this process claims now. */
  deliveriesDue(): void;
}

/** Signals nobody listens to (tests of one part without the rest of the app). */
export const noSignals: CommitSignals = { feedChanged: () => undefined, eventsCommitted: () => undefined, deliveriesDue: () => undefined };

/** The listeners of one signal; `add` answers how to remove the listener again. */
class Listeners<T> {
  private readonly listeners = new Set<(value: T) => void>();

  call(value: T): void {
    for (const listener of this.listeners) listener(value);
  }

  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Signals that call whatever is attached later (the composition root attaches the reader and the worker). */
export class SignalHub implements CommitSignals {
  private readonly feed = new Listeners<readonly ChangeEntry[]>();
  private readonly events = new Listeners<readonly CommittedEvent[]>();
  private readonly work = new Listeners<void>();

  feedChanged(changes: readonly ChangeEntry[]): void {
    this.feed.call(changes);
  }

  eventsCommitted(events: readonly CommittedEvent[]): void {
    this.events.call(events);
  }

  deliveriesDue(): void {
    this.work.call();
  }

  onFeedChanged(listener: (changes: readonly ChangeEntry[]) => void): () => void {
    return this.feed.add(listener);
  }

  onEventsCommitted(listener: (events: readonly CommittedEvent[]) => void): () => void {
    return this.events.add(listener);
  }

  onDeliveriesDue(listener: () => void): () => void {
    return this.work.add(listener);
  }
}
