import { InProcessEventBus } from '../../src/event-bus';
import { FeedReader } from '../../src/feed/feed-reader';
import { EventType } from '../../src/events/event-type';
import { FeedChangeRow, FeedEventRow, FeedSource } from '../../src/feed/feed.queries';
import { createLogger } from '../../src/logger';
import { ManualClock } from '../helpers/clock';
import { waitFor } from '../helpers/wait-for';

/** A feed source over an array of changes, as the `changes` table would hold them. */
function arraySource(changes: FeedChangeRow[]): FeedSource {
  return {
    heads: async () => ({ event: 0, change: 0 }),
    eventsAfter: async () => [],
    changesAfter: async (position, limit) => changes.filter((row) => row.position > position).slice(0, limit),
  };
}

const webhookChange = (position: number): FeedChangeRow => ({
  position,
  topic: 'webhook',
  body: JSON.stringify({ id: `wh_${position}`, accountId: 'acc_1' }),
});

describe('feed reader', () => {
  it('publishes changes in position order, each once, across full pages', async () => {
    const changes = Array.from({ length: 1_234 }, (_, i) => webhookChange(i + 1));
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    bus.subscribe('webhook', ({ id }) => heard.push(id));
    const reader = new FeedReader({
      source: arraySource(changes),
      bus,
      clock: new ManualClock(),
      logger: createLogger('silent'),
      pollMs: 60_000,
      readEvents: false,
    });
    await reader.start();
    await reader.catchUp();
    expect(heard).toEqual(changes.map((row) => `wh_${row.position}`));
    changes.push(webhookChange(1_235));
    await reader.catchUp();
    expect(heard.slice(-2)).toEqual(['wh_1234', 'wh_1235']);
    expect(heard).toHaveLength(1_235);
    await reader.stop();
  });

  it('publishes every message of a row that holds many, in order, then the next rows', async () => {
    const many = (position: number, ids: number[]): FeedChangeRow => ({
      position,
      topic: 'webhook',
      body: JSON.stringify(ids.map((id) => ({ id: `wh_${id}`, accountId: 'acc_1' }))),
    });
    const rows = Array.from({ length: 45 }, (_, i) => many(i + 1, [i * 3 + 1, i * 3 + 2, i * 3 + 3]));
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    bus.subscribe('webhook', ({ id }) => heard.push(id));
    const reader = new FeedReader({
      source: arraySource(rows),
      bus,
      clock: new ManualClock(),
      logger: createLogger('silent'),
      pollMs: 60_000,
      readEvents: false,
    });
    await reader.start();
    await reader.catchUp();
    expect(heard).toEqual(Array.from({ length: 135 }, (_, i) => `wh_${i + 1}`));
    await reader.stop();
  });

  it('publishes at stop what was committed before it, even while a read was under way, and nothing after', async () => {
    const changes = [webhookChange(1)];
    const bus = new InProcessEventBus();
    const heard: string[] = [];
    bus.subscribe('webhook', ({ id }) => heard.push(id));
    const source = arraySource(changes);
    // The first read after start is held, so the stop comes while it runs and the last change is committed meanwhile.
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let reads = 0;
    const reader = new FeedReader({
      source: {
        ...source,
        changesAfter: (position, limit) => {
          const rows = source.changesAfter(position, limit); // what is committed now
          return (reads += 1) === 1 ? held.then(() => rows) : rows;
        },
      },
      bus,
      clock: new ManualClock(),
      logger: createLogger('silent'),
      pollMs: 60_000,
      readEvents: false,
    });
    await reader.start();
    reader.wake();
    changes.push(webhookChange(2));
    const stopping = reader.stop();
    release();
    await stopping;
    expect(heard).toEqual(['wh_1', 'wh_2']);
    changes.push(webhookChange(3));
    reader.wake();
    await reader.catchUp();
    expect(heard).toEqual(['wh_1', 'wh_2']);
  });

  it('prunes only what it had read a retention period ago', async () => {
    const changes = [webhookChange(1), webhookChange(2)];
    const manual = new ManualClock();
    // Each prune check reads the clock once: counting the reads tells the test a check has run.
    let checks = 0;
    const clock = { now: () => ((checks += 1), manual.now()) };
    const aCheck = async () => {
      const seen = checks;
      await waitFor(() => checks > seen, { what: 'a prune check' });
    };
    const pruned: number[] = [];
    const reader = new FeedReader({
      source: arraySource(changes),
      bus: new InProcessEventBus(),
      clock,
      logger: createLogger('silent'),
      pollMs: 60_000,
      readEvents: false,
      prune: { olderThanMs: 1_000, everyMs: 10, run: async (position) => void pruned.push(position) },
    });
    await reader.start();
    await reader.catchUp();
    await aCheck(); // marks position 2 at t = 0
    manual.advance(500);
    changes.push(webhookChange(3));
    await reader.catchUp();
    await aCheck(); // marks position 3 at t = 500
    expect(pruned).toEqual([]);
    manual.advance(500);
    await waitFor(() => pruned.length > 0, { what: 'a prune' });
    // What had been read a retention period ago (2), never what was read since (3).
    expect(pruned).toEqual([2]);
    manual.advance(500);
    await waitFor(() => pruned.length > 1, { what: 'the next prune' });
    expect(pruned[1]).toBe(3);
    await reader.stop();
  });

  it('publishes events offered after a commit at once when they follow its head, and each event once', async () => {
    const stored: FeedEventRow[] = [];
    const eventAt = (position: number): FeedEventRow => ({
      id: `evt_${position}`,
      accountId: 'acc_1',
      type: EventType.BUILD_QUEUED,
      projectId: 'prj_1',
      createdAt: new Date(Date.UTC(2026, 11, 2, 0, 0, position)),
      payload: `{"n":${position}}`,
      position,
    });
    const committed = (position: number) => {
      const row = eventAt(position);
      stored.push(row);
      return { ...row, createdAt: row.createdAt as Date };
    };
    let reads = 0;
    let holdNextRead: Promise<void> | undefined;
    const source: FeedSource = {
      heads: async () => ({ event: 0, change: 0 }),
      eventsAfter: async (position, limit) => {
        reads += 1;
        const rows = stored.filter((row) => row.position > position).slice(0, limit); // what is committed now
        const hold = holdNextRead;
        holdNextRead = undefined;
        if (hold) await hold;
        return rows;
      },
      changesAfter: async () => [],
    };
    const bus = new InProcessEventBus();
    const heard: number[] = [];
    bus.subscribe('event', ({ position }) => heard.push(position));
    const reader = new FeedReader({
      source,
      bus,
      clock: new ManualClock(),
      logger: createLogger('silent'),
      pollMs: 60_000,
      readEvents: true,
    });
    await reader.start();

    // Right after the head: published synchronously, before any read.
    const before = reads;
    reader.offer([committed(1), committed(2)]);
    expect(heard).toEqual([1, 2]);
    expect(reads).toBe(before);
    expect(reader.eventPosition).toBe(2);
    // A read that finds them again publishes nothing twice.
    await reader.catchUp();
    expect(heard).toEqual([1, 2]);

    // Another process committed 3 and this one 4: 4 waits for the read, which publishes both in order.
    stored.push(eventAt(3));
    reader.offer([committed(4)]);
    expect(heard).toEqual([1, 2]);
    // The gap starts that read itself (the poll here is a minute away).
    await waitFor(() => heard.length === 4, { what: 'the read the gap starts' });
    await reader.catchUp();
    expect(heard).toEqual([1, 2, 3, 4]);
    // A read under way when this process's commit is offered: it finds the event too, and skips it.
    let release = () => {};
    holdNextRead = new Promise<void>((resolve) => (release = resolve));
    const fifth = committed(5);
    reader.wake();
    await waitFor(() => holdNextRead === undefined, { what: 'the read to start' });
    reader.offer([fifth]);
    expect(heard).toEqual([1, 2, 3, 4, 5]);
    release();
    await reader.catchUp();
    expect(heard).toEqual([1, 2, 3, 4, 5]);
    // An offer the read already published is ignored.
    reader.offer([{ ...eventAt(4), createdAt: new Date() }]);
    expect(heard).toEqual([1, 2, 3, 4, 5]);
    await reader.stop();
    // Stopped: offers publish nothing.
    reader.offer([committed(6)]);
    expect(heard).toEqual([1, 2, 3, 4, 5]);
  });
});
