import { Client } from 'pg';
import { QueryRunner } from 'typeorm';
import { Database, openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { queryRows } from '../../src/db/raw-sql';
import { CommittedEvent, InProcessEventBus } from '../../src/event-bus';
import { FeedReader } from '../../src/feed/feed-reader';
import { databaseFeedSource, FeedSource, insertChanges, nextEventPositions } from '../../src/feed/feed.queries';
import { systemClock } from '../../src/clock';
import { createLogger } from '../../src/logger';
import { freshDatabase } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

/** The feed's append lock as pg_locks shows a bigint advisory key: its high and low 32 bits (src/feed/feed.queries.ts). */
const FEED_LOCK = 0x6466656564n;
const FEED_LOCK_CLASSID = Number(FEED_LOCK >> 32n);
const FEED_LOCK_OBJID = Number(FEED_LOCK & 0xffffffffn);

/** How many times a reader reads while a transaction is held open: samples, not a wait. */
const READS_WHILE_OPEN = 5;

/** A transaction of its own on one pooled connection, and that connection's backend pid. */
interface Tx {
  runner: QueryRunner;
  pid: number;
}

/** The app's readers of the feed over the database: a cursor over `eventsAfter`, and the app's own `FeedReader` on a bus. */
interface Readers {
  source: FeedSource;
  /** Reads above the cursor once, moves it to the last row read, returns the rows' ids. */
  poll(): Promise<string[]>;
  /** Every event id a cursor poll returned, in order. */
  polled: string[];
  /** Every event the FeedReader published, in order. */
  published: CommittedEvent[];
  feed: FeedReader;
}

/**
 * Commit order on PostgreSQL: a transaction appending to the feed takes the append lock before its
 * position, so a second one cannot take a position until the first has ended, and readers that
 * follow the feed by position (`eventsAfter`, the FeedReader) never move past a transaction still
 * running: they see every event once, in commit order, whatever the interleaving, rollbacks
 * included. Transactions run on the app's own connections (TypeORM query runners) and take their
 * positions through the app's code (`nextEventPositions`, `insertChanges`).
 */
describe('feed positions in commit order on PostgreSQL', () => {
  let db: Database;
  const runners: QueryRunner[] = [];
  const readers: FeedReader[] = [];
  beforeEach(async () => {
    db = await openDatabase(freshDatabase(''), appDatabaseSchema);
  });
  afterEach(async () => {
    for (const reader of readers.splice(0)) await reader.stop();
    for (const runner of runners.splice(0)) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
    }
    await db.close();
  });

  async function begin(): Promise<Tx> {
    const runner = db.dataSource.createQueryRunner();
    runners.push(runner);
    await runner.connect();
    const [{ pid }] = await runner.query('SELECT pg_backend_pid() AS pid');
    await runner.startTransaction();
    return { runner, pid };
  }

  /** Appends one event as the outbox does: the position from `nextEventPositions`, then the INSERT. Resolves with the position. */
  async function appendEvent(tx: Tx, id: string): Promise<number> {
    const [position] = await nextEventPositions(tx.runner.manager, 1);
    await queryRows(
      tx.runner.manager,
      `INSERT INTO "events" ("id", "accountId", "type", "projectId", "buildId", "payload", "createdAt", "test", "position") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, 'acc_commit_order', 'project.created', 'prj_1', null, JSON.stringify({ id }), new Date(), false, position],
    );
    return position;
  }

  async function committedEvent(id: string): Promise<number> {
    const tx = await begin();
    const position = await appendEvent(tx, id);
    await tx.runner.commitTransaction();
    return position;
  }

  /** Resolves once backend `pid` is waiting for the feed's append lock (pg_locks: an advisory lock not granted). */
  async function waitingForFeedLock(pid: number): Promise<void> {
    await waitFor(
      async () => {
        const rows = await queryRows<{ pid: number }>(
          db.reader,
          `SELECT "pid" FROM pg_locks WHERE "locktype" = 'advisory' AND NOT "granted" AND "pid" = ? AND "classid" = ? AND "objid" = ?`,
          [pid, FEED_LOCK_CLASSID, FEED_LOCK_OBJID],
        );
        return rows.length === 1;
      },
      { timeoutMs: 5_000, what: `backend ${pid} to wait for the feed's append lock` },
    );
  }

  async function startReaders(): Promise<Readers> {
    const source = databaseFeedSource(() => db.reader);
    const bus = new InProcessEventBus();
    const published: CommittedEvent[] = [];
    bus.subscribe('event', (event) => published.push(event));
    // Polls every 10 ms by itself as well (the app: every 50 ms and on wake-ups).
    const feed = new FeedReader({ source, bus, clock: systemClock, logger: createLogger('silent'), pollMs: 10, readEvents: true });
    readers.push(feed);
    await feed.start();
    const polled: string[] = [];
    let cursor = (await source.heads()).event;
    return {
      source,
      polled,
      published,
      feed,
      async poll() {
        const rows = await source.eventsAfter(cursor, 100);
        for (const row of rows) {
          expect(Number(row.position)).toBeGreaterThan(cursor);
          cursor = Number(row.position);
          polled.push(row.id);
        }
        return rows.map((row) => row.id);
      },
    };
  }

  /** Reads a few times with both readers: what a reader sees while a transaction is held open. */
  async function readWhileOpen(readers: Readers): Promise<string[]> {
    const seen: string[] = [];
    for (let i = 0; i < READS_WHILE_OPEN; i += 1) {
      seen.push(...(await readers.poll()));
      await readers.feed.catchUp();
    }
    return seen;
  }

  const settled = (promise: Promise<unknown>) => {
    const state = { done: false };
    promise.then(
      () => (state.done = true),
      () => (state.done = true),
    );
    return state;
  };

  it('B cannot take a position while A is open; readers never pass A; after A then B commit they see A then B, none missing', async () => {
    const base = await committedEvent('evt_base');
    const readers = await startReaders();
    expect(base).toBe(1);

    const a = await begin();
    const positionA = await appendEvent(a, 'evt_a');
    expect(positionA).toBe(base + 1);

    const b = await begin();
    const appendingB = appendEvent(b, 'evt_b');
    const bState = settled(appendingB);
    await waitingForFeedLock(b.pid);

    // While A is open: B is still waiting, and neither reader returns anything (nothing at or past A's position).
    expect(await readWhileOpen(readers)).toEqual([]);
    expect(readers.published).toEqual([]);
    expect(bState.done).toBe(false);
    expect(readers.feed.eventPosition).toBe(base);

    await a.runner.commitTransaction();
    const positionB = await appendingB;
    expect(positionB).toBe(positionA + 1);

    // A has committed, B is open (it holds the lock now): readers see A and stop below B.
    await waitFor(() => readers.published.length === 1, { what: 'the FeedReader to publish A' });
    expect(await readWhileOpen(readers)).toEqual(['evt_a']);
    expect(readers.published.map((event) => event.id)).toEqual(['evt_a']);

    await b.runner.commitTransaction();
    await waitFor(() => readers.published.length === 2, { what: 'the FeedReader to publish B' });
    await readers.poll();
    expect(readers.polled).toEqual(['evt_a', 'evt_b']);
    expect(readers.published.map((event) => [event.id, event.position])).toEqual([
      ['evt_a', positionA],
      ['evt_b', positionB],
    ]);
    // Commit order is position order in the table too.
    const stored = await queryRows<{ id: string }>(db.reader, `SELECT "id" FROM "events" ORDER BY "position"`);
    expect(stored.map((row) => row.id)).toEqual(['evt_base', 'evt_a', 'evt_b']);
  });

  it('A rolls back: B then takes the position A had, and readers see B (nothing of A, nothing skipped)', async () => {
    const base = await committedEvent('evt_base');
    const readers = await startReaders();

    const a = await begin();
    const positionA = await appendEvent(a, 'evt_a');
    const b = await begin();
    const appendingB = appendEvent(b, 'evt_b');
    const bState = settled(appendingB);
    await waitingForFeedLock(b.pid);
    expect(await readWhileOpen(readers)).toEqual([]);
    expect(bState.done).toBe(false);

    await a.runner.rollbackTransaction();
    const positionB = await appendingB;
    expect(positionB).toBe(positionA);
    expect(positionB).toBe(base + 1);
    expect(await readWhileOpen(readers)).toEqual([]);

    await b.runner.commitTransaction();
    await waitFor(() => readers.published.length === 1, { what: 'the FeedReader to publish B' });
    await readers.poll();
    expect(readers.polled).toEqual(['evt_b']);
    expect(readers.published.map((event) => [event.id, event.position])).toEqual([['evt_b', positionB]]);
  });

  it('changes (a SERIAL position) are taken after the same lock: an event append holds back a change append, and the change feed is in commit order', async () => {
    const source = databaseFeedSource(() => db.reader);
    const a = await begin();
    await appendEvent(a, 'evt_a');
    await insertChanges(a.runner.manager, [{ topic: 'webhook', body: JSON.stringify({ id: 'wh_a', accountId: 'acc_1' }) }], new Date());

    const b = await begin();
    const appendingB = insertChanges(
      b.runner.manager,
      [{ topic: 'webhook', body: JSON.stringify({ id: 'wh_b', accountId: 'acc_1' }) }],
      new Date(),
    );
    const bState = settled(appendingB);
    await waitingForFeedLock(b.pid);

    // A third transaction, appending changes only, queues behind both.
    const c = await begin();
    const appendingC = insertChanges(
      c.runner.manager,
      [{ topic: 'webhook', body: JSON.stringify({ id: 'wh_c', accountId: 'acc_1' }) }],
      new Date(),
    );
    await waitingForFeedLock(c.pid);
    expect(await source.changesAfter(0, 100)).toEqual([]);
    expect(bState.done).toBe(false);

    await a.runner.commitTransaction();
    await appendingB;
    expect((await source.changesAfter(0, 100)).map((row) => JSON.parse(row.body).id)).toEqual(['wh_a']);
    await b.runner.commitTransaction();
    await appendingC;
    await c.runner.commitTransaction();
    const changes = await source.changesAfter(0, 100);
    expect(changes.map((row) => JSON.parse(row.body).id)).toEqual(['wh_a', 'wh_b', 'wh_c']);
    const positions = changes.map((row) => Number(row.position));
    expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  });
});

/**
 * The control: why the lock exists. Without it, PostgreSQL hands out sequence values at INSERT,
 * not at commit, so a transaction that took 1 can commit after one that took 2; a reader following a
 * cursor that has moved past 2 never sees 1. Shown on a scratch table with a plain sequence and
 * two raw connections.
 */
describe('positions from a plain sequence, with no lock (the danger the lock prevents)', () => {
  let url: string;
  const clients: Client[] = [];
  beforeEach(() => {
    url = freshDatabase('');
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end();
  });

  async function connect(): Promise<Client> {
    const client = new Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    return client;
  }

  /** A reader of the scratch table that follows a cursor, as the feed reader does: what it saw, in order. */
  function scratchCursor(reader: Client): { poll(): Promise<void>; seen: string[]; position(): number } {
    let cursor = 0;
    const seen: string[] = [];
    return {
      seen,
      position: () => cursor,
      async poll() {
        const { rows } = await reader.query('SELECT "position", "label" FROM "scratch_feed" WHERE "position" > $1 ORDER BY "position"', [
          cursor,
        ]);
        for (const row of rows) {
          cursor = row.position;
          seen.push(row.label);
        }
      },
    };
  }

  it('a transaction committing out of sequence order is never seen by a cursor reader', async () => {
    const setup = await connect();
    await setup.query('CREATE TABLE "scratch_feed" ("position" SERIAL PRIMARY KEY, "label" text NOT NULL)');
    const first = await connect();
    const second = await connect();
    const reader = await connect();

    await first.query('BEGIN');
    const one = (await first.query(`INSERT INTO "scratch_feed" ("label") VALUES ('first') RETURNING "position"`)).rows[0].position;
    await second.query('BEGIN');
    const two = (await second.query(`INSERT INTO "scratch_feed" ("label") VALUES ('second') RETURNING "position"`)).rows[0].position;
    expect([one, two]).toEqual([1, 2]);
    // Neither waited for the other: no lock, so the later position commits first.
    await second.query('COMMIT');

    const { poll, seen, position } = scratchCursor(reader);
    await poll();
    expect(position()).toBe(2);
    await first.query('COMMIT');
    await poll();

    // Both committed, the reader missed one for good.
    expect((await reader.query('SELECT count(*)::int AS "n" FROM "scratch_feed"')).rows[0].n).toBe(2);
    expect(seen).toEqual(['second']);
  });

  it('the same two transactions taking an advisory transaction lock first: the second waits, and the reader sees both in order', async () => {
    const setup = await connect();
    await setup.query('CREATE TABLE "scratch_feed" ("position" SERIAL PRIMARY KEY, "label" text NOT NULL)');
    const first = await connect();
    const second = await connect();
    const reader = await connect();
    const secondPid = (await second.query('SELECT pg_backend_pid() AS "pid"')).rows[0].pid;

    await first.query('BEGIN');
    await first.query('SELECT pg_advisory_xact_lock(42)');
    await first.query(`INSERT INTO "scratch_feed" ("label") VALUES ('first')`);
    await second.query('BEGIN');
    const secondInsert = second
      .query('SELECT pg_advisory_xact_lock(42)')
      .then(() => second.query(`INSERT INTO "scratch_feed" ("label") VALUES ('second') RETURNING "position"`));
    await waitFor(
      async () =>
        (await reader.query(`SELECT 1 FROM pg_locks WHERE "locktype" = 'advisory' AND NOT "granted" AND "pid" = $1`, [secondPid]))
          .rowCount === 1,
      {
        timeoutMs: 5_000,
        what: 'the second transaction to wait for the lock',
      },
    );

    const { poll, seen } = scratchCursor(reader);
    await poll();
    expect(seen).toEqual([]);
    await first.query('COMMIT');
    expect((await secondInsert).rows[0].position).toBe(2);
    await poll();
    await second.query('COMMIT');
    await poll();
    expect(seen).toEqual(['first', 'second']);
  });
});
