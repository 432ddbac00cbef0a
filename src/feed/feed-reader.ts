import { Clock } from '../clock';
import { CoalescingRun } from '../coalescing-run';
import { datetimeOf } from '../db/raw-sql';
import { BusTopics, CommittedEvent, EventBus } from '../event-bus';
import { Logger } from '../logger';
import { ChangeTopic, messagesOf } from './change-log';
import { FeedSource } from './feed.queries';

export interface FeedReaderOptions {
  source: FeedSource;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  /** How often the tables are read when no in-process signal came (work committed by other processes). */
  pollMs: number;
  /** Whether events are read at all (a worker-only process has no subscribers). */
  readEvents: boolean;
  /**
   * Removes changes once they are `olderThanMs` old, checked every `everyMs` (a change is only ever
   * read live): `run` drops every change at or below the position given.
   */
  prune?: { olderThanMs: number; everyMs: number; run(upToPosition: number): Promise<void> };
}

/** Rows read per query; a full page is followed by another read at once. */
const PAGE = 500;
/** Changes rows read per query: each holds up to `MESSAGES_PER_ROW` messages, so at most 10,000 at once. */
const CHANGE_PAGE = 20;

/**
 * Every process's one reader of the feed: it reads committed events and changes in commit order,
 * above the last position it published, and publishes them on this process's bus. So subscribers and
 * caches hear of what ANY process committed, each message once and in commit order, and nothing is
 * published for a write that rolled back. Reads happen every `pollMs`, and at once after `wake()`.
 */
export class FeedReader {
  private eventHead = 0;
  private changeHead = 0;
  private timer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly reads = new CoalescingRun(() => this.readAll());
  private stopped = false;
  private failing = false;

  constructor(private readonly options: FeedReaderOptions) {}

  /** Starts at what is committed now: earlier rows are history (resumed subscriptions read them). */
  async start(): Promise<void> {
    const heads = await this.options.source.heads();
    this.eventHead = heads.event;
    this.changeHead = heads.change;
    // Timers never keep a process alive on their own: the HTTP server does, until it closes.
    this.timer = setInterval(() => this.wake(), this.options.pollMs).unref();
    const { prune } = this.options;
    if (prune) {
      // Where the feed stood at each check: what was already read `olderThanMs` ago can go.
      const marks: Array<{ at: number; position: number }> = [];
      this.pruneTimer = setInterval(() => {
        const now = this.options.clock.now().getTime();
        marks.push({ at: now, position: this.changeHead });
        let old: { at: number; position: number } | undefined;
        while (marks.length > 0 && marks[0].at <= now - prune.olderThanMs) old = marks.shift();
        if (old)
          prune.run(old.position).catch((error: unknown) => this.options.logger.warn({ err: error }, 'could not prune the change feed'));
      }, prune.everyMs).unref();
    }
  }

  /** The position of the last event published: everything at or below it has reached the bus. */
  get eventPosition(): number {
    return this.eventHead;
  }

  /**
   * Publishes events this process has just committed without reading them back, as long as each
   * comes right after the last one published (the next position in commit order: everything below
   * it is already out). At the first gap (another process committed in between) it stops and starts
   * a read, which publishes the rest in order. So a commit whose events all follow costs no read.
   * Either way each event is published once: the read skips what was published here.
   */
  offer(events: readonly CommittedEvent[]): void {
    if (this.stopped || !this.options.readEvents) return;
    for (const event of events) {
      if (event.position <= this.eventHead) continue;
      if (event.position !== this.eventHead + 1) {
        this.wake();
        return;
      }
      this.eventHead = event.position;
      this.options.bus.publish('event', event);
    }
  }

  /** Reads now (or right after the read under way). */
  wake(): void {
    if (!this.stopped) this.reads.trigger();
  }

  /** Resolves once every row committed before the call has been published. */
  async catchUp(): Promise<void> {
    await this.reads.running;
    this.wake();
    await this.reads.running;
  }

  /**
   * Publishes what was committed before the call (this process's last writes among it), then stops:
   * whatever still listens at shutdown hears of every write the process finished.
   */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.pruneTimer);
    await this.catchUp();
    this.stopped = true;
    await this.reads.running;
  }

  private async readAll(): Promise<void> {
    try {
      let full = true;
      while (full && !this.stopped) {
        full = false;
        if (this.options.readEvents) full = (await this.readEvents()) || full;
        full = (await this.readChanges()) || full;
      }
      if (this.failing) this.options.logger.info('reading the change feed again');
      this.failing = false;
    } catch (error) {
      // The next poll tries again from the same positions: nothing is skipped.
      if (!this.failing) this.options.logger.warn({ err: error }, 'could not read the change feed; retrying');
      this.failing = true;
    }
  }

  private async readEvents(): Promise<boolean> {
    const rows = await this.options.source.eventsAfter(this.eventHead, PAGE);
    for (const row of rows) {
      const position = Number(row.position);
      // Published meanwhile by `offer`.
      if (position <= this.eventHead) continue;
      this.eventHead = position;
      this.options.bus.publish('event', {
        id: row.id,
        accountId: row.accountId,
        type: row.type,
        projectId: row.projectId,
        createdAt: datetimeOf(row.createdAt),
        payload: row.payload,
        position,
      });
    }
    return rows.length === PAGE;
  }

  private async readChanges(): Promise<boolean> {
    const rows = await this.options.source.changesAfter(this.changeHead, CHANGE_PAGE);
    for (const row of rows) {
      this.changeHead = Number(row.position);
      const topic = row.topic as ChangeTopic;
      for (const message of messagesOf(row.body)) this.options.bus.publish(topic, message as BusTopics[typeof topic]);
    }
    return rows.length === CHANGE_PAGE;
  }
}
