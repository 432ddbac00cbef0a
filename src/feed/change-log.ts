import { Clock } from '../clock';
import { WriteTransaction } from '../db/write-serializer';
import { BusTopics } from '../event-bus';
import { CommitSignals } from './commit-signals';
import { insertChanges } from './feed.queries';

/** The topics that travel through the `changes` table (events travel through `events` itself). */
export type ChangeTopic = Exclude<keyof BusTopics, 'event'>;

/** One change to announce: a topic and its message (a union over the topics, so `topic` narrows `message`). */
export type ChangeEntry = { [K in ChangeTopic]: { topic: K; message: BusTopics[K] } }[ChangeTopic];

/**
 * How a write tells every process of what it changed: the messages are stored in the write's own
 * transaction and reach the bus of every process through its `FeedReader`, after the commit and in
 * commit order. A rollback leaves nothing to hear.
 */
export class ChangeLog {
  constructor(
    private readonly clock: Clock,
    private readonly signals: CommitSignals,
  ) {}

  async record<K extends ChangeTopic>(tx: WriteTransaction, topic: K, message: BusTopics[K]): Promise<void> {
    await this.recordAll(tx, [{ topic, message } as ChangeEntry]);
  }

  async recordAll(tx: WriteTransaction, entries: ChangeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await insertChanges(
      tx.manager,
      entries.map(({ topic, message }) => ({ topic, body: JSON.stringify(message) })),
      this.clock.now(),
    );
    tx.afterCommit(() => this.signals.feedChanged(entries));
  }
}
