import { Clock } from '../clock';
import { WriteTransaction } from '../db/write-serializer';
import { BusTopics } from '../event-bus';
import { CommitSignals } from './commit-signals';
import { insertChanges } from './feed.queries';

/** The topics that travel through the `changes` table (events travel through `events` itself). */
export type ChangeTopic = Exclude<keyof BusTopics, 'event'>;

/** One change to announce: a topic and its message (a union over the topics, so `topic` narrows `message`). */
export type ChangeEntry = { [K in ChangeTopic]: { topic: K; message: BusTopics[K] } }[ChangeTopic];

/** Most messages in one `changes` row (a webhook deleted with a million pending deliveries is 2,000 rows). */
export const MESSAGES_PER_ROW = 500;

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

  /**
   * Stores the entries as one row per run of the same topic (at most `MESSAGES_PER_ROW`), its body
   * the JSON array of the run's messages: a batch of 500 delivery outcomes is one row to write and
   * to read, not 500.
   */
  async recordAll(tx: WriteTransaction, entries: ChangeEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const runs: Array<{ topic: ChangeTopic; messages: unknown[] }> = [];
    for (const { topic, message } of entries) {
      const last = runs[runs.length - 1];
      if (last?.topic === topic && last.messages.length < MESSAGES_PER_ROW) last.messages.push(message);
      else runs.push({ topic, messages: [message] });
    }
    await insertChanges(
      tx.manager,
      runs.map(({ topic, messages }) => ({ topic, body: JSON.stringify(messages) })),
      this.clock.now(),
    );
    tx.afterCommit(() => this.signals.feedChanged(entries));
  }
}

/** The messages of a `changes` row: a JSON array (one object in rows written before arrays, pruned within the hour). */
export function messagesOf(body: string): unknown[] {
  const parsed: unknown = JSON.parse(body);
  return Array.isArray(parsed) ? parsed : [parsed];
}
