import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { DeferredBatch, WriteBatcher, WriteTransaction } from '../../src/db/write-serializer';
import { createAccount, gql, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';
import { refuseInserts, sql } from '../helpers/test-database';

describe('write serialization', () => {
  let server: TestServer;
  let account: TestAccount;
  const published: string[] = [];

  beforeAll(async () => {
    // These tests race a hundred requests of one account at once: the per-account wait is the
    // whole burst's (test/graphql/account-limits.test.ts tests the limit itself).
    server = await startTestServer({ limits: { operationWaitMs: 60_000, operationQueuePerAccount: 1_000 } });
    account = await createAccount(server.app);
    server.app.bus.subscribe('event', (event) => published.push(event.id));
    // A real failure in the middle of a transaction: the project row is already written when the
    // event insert aborts, so the whole transaction must roll back without touching the others.
    await refuseInserts(server.app.db.dataSource, 'events', 'fail_some_events', 'injected failure', `NEW.payload LIKE '%"name":"fail-%'`);
  });
  afterAll(() => server.stop());

  it('keeps every committed row when many concurrent mutations fail half-way', async () => {
    const names = Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? `fail-${i}` : `ok-${i}`));
    const responses = await Promise.all(
      names.map((name) =>
        gql(server.url, 'mutation ($name: String!) { createProject(input: { name: $name }) { id name } }', { name }, account.apiKey),
      ),
    );
    const succeeded = responses.filter((response) => response.data?.createProject).map((response) => response.data.createProject.name);
    const failed = responses.filter((response) => response.errors);
    expect(succeeded.sort()).toEqual(names.filter((name) => name.startsWith('ok-')).sort());
    expect(failed).toHaveLength(40);
    for (const response of failed) expect(response.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');

    const projects = await sql(server.app.db.reader, 'SELECT name FROM projects');
    expect(projects.map((row: { name: string }) => row.name).sort()).toEqual([...succeeded].sort());
    const events = await sql(server.app.db.reader, "SELECT id FROM events WHERE type = 'project.created'");
    expect(events).toHaveLength(80);
    await server.app.feed.catchUp();
    expect([...published].sort()).toEqual(events.map((row: { id: string }) => row.id).sort());
  });
});

describe('group commit', () => {
  let dir: string;
  let db: Database;
  const effectErrors: unknown[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-group-commit-'));
    db = await openDatabase(join(dir, 'group.sqlite'), appDatabaseSchema, (error) => effectErrors.push(error));
    await sql(db.dataSource, 'CREATE TABLE notes (id TEXT PRIMARY KEY, body TEXT NOT NULL)');
    await sql(db.dataSource, 'CREATE TABLE parents (id TEXT PRIMARY KEY)');
    // Checked only at COMMIT: a violation makes the whole transaction unable to commit.
    await sql(
      db.dataSource,
      'CREATE TABLE children (id TEXT PRIMARY KEY, "parentId" TEXT REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)',
    );
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await db.writes.write(async ({ manager }) => {
      await sql(manager, 'DELETE FROM notes');
      await sql(manager, 'DELETE FROM children');
    });
    effectErrors.length = 0;
  });

  const insertNote = (id: string) => (tx: WriteTransaction) => sql(tx.manager, 'INSERT INTO notes (id, body) VALUES (?, ?)', [id, id]);
  const storedNotes = async () => (await sql(db.reader, 'SELECT id FROM notes ORDER BY id')).map((row: { id: string }) => row.id);

  /** Starts a write that holds the queue until `release()`, so the writes queued meanwhile form one group. */
  function holdQueue(): { release: () => void; done: Promise<unknown> } {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    return { release, done: db.writes.write(() => held) };
  }

  it('commits writes queued together in one transaction: each sees the ones before it, readers see none until the commit', async () => {
    const holder = holdQueue();
    const seen: Array<{ writer: number; reader: number }> = [];
    const writes = ['a', 'b', 'c'].map((id) =>
      db.writes.write(async (tx) => {
        await insertNote(id)(tx);
        const [{ writer }] = await sql(tx.manager, 'SELECT count(*) AS writer FROM notes');
        const [{ reader }] = await sql(db.reader, 'SELECT count(*) AS reader FROM notes');
        seen.push({ writer, reader });
        return id;
      }),
    );
    expect(db.writes.waiting).toBe(3);
    holder.release();
    expect(await Promise.all(writes)).toEqual(['a', 'b', 'c']);
    expect(seen).toEqual([
      { writer: 1, reader: 0 },
      { writer: 2, reader: 0 },
      { writer: 3, reader: 0 },
    ]);
    expect(await storedNotes()).toEqual(['a', 'b', 'c']);
  });

  it('rolls back a failing write alone; the others commit and their effects run in queue order after the commit', async () => {
    const holder = holdQueue();
    const effects: string[] = [];
    const write = (id: string, fail: boolean) =>
      db.writes.write(async (tx) => {
        await insertNote(id)(tx);
        tx.afterCommit(() => effects.push(id));
        tx.afterCommit(async () => effects.push(`${id} sees ${(await storedNotes()).join(',')}`));
        if (fail) throw new Error(`${id} failed`);
        return id;
      });
    const results = Promise.allSettled([write('a', false), write('b', true), write('c', false), write('d', true)]);
    holder.release();
    const [a, b, c, d] = await results;
    expect(a).toEqual({ status: 'fulfilled', value: 'a' });
    expect(b).toMatchObject({ status: 'rejected', reason: new Error('b failed') });
    expect(c).toEqual({ status: 'fulfilled', value: 'c' });
    expect(d).toMatchObject({ status: 'rejected', reason: new Error('d failed') });
    expect(await storedNotes()).toEqual(['a', 'c']);
    expect(effects.slice(0, 2)).toEqual(['a', 'c']);
    await waitFor(() => effects.length === 4);
    expect(effects.slice(2).sort()).toEqual(['a sees a,c', 'c sees a,c']);
  });

  it('undoes the group when a write fails and runs the others again, each in a savepoint', async () => {
    const holder = holdQueue();
    const runs: string[] = [];
    const write = (id: string, fail: boolean) =>
      db.writes.write(async (tx) => {
        runs.push(id);
        await insertNote(id)(tx);
        if (fail) throw new Error(`${id} failed`);
      });
    const results = Promise.allSettled([write('a', false), write('b', true), write('c', false), write('d', true), write('e', false)]);
    holder.release();
    expect((await results).map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    // First try: a, then b fails and undoes the group; second try with savepoints: d fails alone.
    expect(runs).toEqual(['a', 'b', 'a', 'c', 'd', 'e']);
    expect(await storedNotes()).toEqual(['a', 'c', 'e']);
  });

  it('reports a failed SQL statement as that write’s error and keeps the group going', async () => {
    const holder = holdQueue();
    const results = Promise.allSettled([
      db.writes.write(insertNote('x')),
      db.writes.write(async (tx) => {
        await insertNote('y')(tx);
        await insertNote('x')(tx); // duplicate key
      }),
      db.writes.write(insertNote('z')),
    ]);
    holder.release();
    const [x, y, z] = await results;
    expect(x.status).toBe('fulfilled');
    expect(y).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('UNIQUE constraint failed') } });
    expect(z.status).toBe('fulfilled');
    expect(await storedNotes()).toEqual(['x', 'z']);
  });

  it('runs the writes again one by one when the group cannot commit, so only the culprit fails', async () => {
    const holder = holdQueue();
    const runs: string[] = [];
    const effects: string[] = [];
    const write = (id: string, parentId: string | null) =>
      db.writes.write(async (tx) => {
        runs.push(id);
        await sql(tx.manager, 'INSERT INTO children (id, "parentId") VALUES (?, ?)', [id, parentId]);
        tx.afterCommit(() => effects.push(id));
        return id;
      });
    const results = Promise.allSettled([write('a', null), write('orphan', 'missing'), write('c', null)]);
    holder.release();
    const [a, orphan, c] = await results;
    expect(a).toEqual({ status: 'fulfilled', value: 'a' });
    expect(orphan).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('FOREIGN KEY constraint failed') } });
    expect(c).toEqual({ status: 'fulfilled', value: 'c' });
    expect(runs).toEqual(['a', 'orphan', 'c', 'a', 'orphan', 'c']);
    expect(effects).toEqual(['a', 'c']);
    expect((await sql(db.reader, 'SELECT id FROM children ORDER BY id')).map((row: { id: string }) => row.id)).toEqual(['a', 'c']);
  });

  describe('batched writes', () => {
    /** Inserts the notes of a run in one statement (a duplicate id fails it whole); answers each note's body, and remembers the runs. */
    function noteBatcher() {
      const runs: string[][] = [];
      const batcher: WriteBatcher<string, string> = {
        async run(manager, ids) {
          runs.push(ids);
          const rows = await sql(
            manager,
            `INSERT INTO notes (id, body) VALUES ${ids.map(() => '(?, ?)').join(', ')} RETURNING id, body`,
            ids.flatMap((id) => [id, `body ${id}`]),
          );
          const bodies = new Map(rows.map((row: { id: string; body: string }) => [row.id, row.body]));
          return ids.map((id) => bodies.get(id)!);
        },
      };
      return { batcher, runs };
    }

    it('runs consecutive batched writes of a group in one batch; each finishes with its own result', async () => {
      const { batcher, runs } = noteBatcher();
      const holder = holdQueue();
      const effects: string[] = [];
      const batched = (id: string) =>
        db.writes.writeBatched(
          batcher,
          id,
          (tx, body) => {
            tx.afterCommit(() => effects.push(id));
            return body.toUpperCase();
          },
          { aheadOfDeferred: true },
        );
      const results = Promise.all([batched('a'), batched('b'), db.writes.write(insertNote('plain')), batched('c'), batched('d')]);
      holder.release();
      expect(await results).toEqual(['BODY A', 'BODY B', [], 'BODY C', 'BODY D']);
      // A plain write between them starts a new batch: the batch never runs ahead of a write queued before it.
      expect(runs).toEqual([
        ['a', 'b'],
        ['c', 'd'],
      ]);
      expect(effects).toEqual(['a', 'b', 'c', 'd']);
      expect(await storedNotes()).toEqual(['a', 'b', 'c', 'd', 'plain']);
    });

    it('runs each write alone when its batch fails, so only the culprit fails', async () => {
      const { batcher, runs } = noteBatcher();
      await db.writes.write(insertNote('taken'));
      const holder = holdQueue();
      const results = Promise.allSettled(
        ['a', 'taken', 'c'].map((id) => db.writes.writeBatched(batcher, id, (_tx, body) => body, { aheadOfDeferred: true })),
      );
      holder.release();
      const [a, taken, c] = await results;
      expect(a).toEqual({ status: 'fulfilled', value: 'body a' });
      expect(taken).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('UNIQUE constraint failed') } });
      expect(c).toEqual({ status: 'fulfilled', value: 'body c' });
      expect(runs).toEqual([['a', 'taken', 'c'], ['a'], ['taken'], ['c']]);
      expect(await storedNotes()).toEqual(['a', 'c', 'taken']);
    });

    it('runs the batch again when the group is undone by a later write, never reusing a rolled-back result', async () => {
      const { batcher, runs } = noteBatcher();
      const holder = holdQueue();
      const results = Promise.allSettled([
        db.writes.writeBatched(batcher, 'a', (_tx, body) => body, { aheadOfDeferred: true }),
        db.writes.writeBatched(
          batcher,
          'b',
          () => {
            throw new Error('b refused');
          },
          { aheadOfDeferred: true },
        ),
        db.writes.writeBatched(batcher, 'c', (_tx, body) => body, { aheadOfDeferred: true }),
      ]);
      holder.release();
      expect((await results).map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      // The first try's batch is rolled back with b; the second try runs each write in its savepoint.
      expect(runs).toEqual([['a', 'b', 'c'], ['a'], ['c']]);
      expect(await storedNotes()).toEqual(['a', 'c']);
    });
  });

  describe('deferred work', () => {
    /** Inserts the deferred notes in one statement per flush, and remembers the flushes. */
    function noteBatch() {
      const flushes: string[][] = [];
      const batch: DeferredBatch<string> = {
        async flush(manager, ids) {
          flushes.push(ids);
          await sql(manager, `INSERT INTO notes (id, body) VALUES ${ids.map(() => "(?, 'deferred')").join(', ')}`, ids);
        },
      };
      return { batch, flushes };
    }

    it('is flushed once for the group, after writes that run ahead of it and before the commit', async () => {
      const { batch, flushes } = noteBatch();
      const holder = holdQueue();
      const seen: number[] = [];
      const write = (id: string) =>
        db.writes.write(
          async (tx) => {
            const [{ count }] = await sql(tx.manager, 'SELECT count(*) AS count FROM notes');
            seen.push(count);
            tx.defer(batch, id);
          },
          { aheadOfDeferred: true },
        );
      const writes = Promise.all([write('a'), write('b'), write('c')]);
      holder.release();
      await writes;
      expect(flushes).toEqual([['a', 'b', 'c']]);
      expect(seen).toEqual([0, 0, 0]);
      expect(await storedNotes()).toEqual(['a', 'b', 'c']);
    });

    it('is flushed before a write that does not run ahead of it, and dropped with a write that fails', async () => {
      const { batch, flushes } = noteBatch();
      const holder = holdQueue();
      const deferring = (id: string, fail = false) =>
        db.writes.write(
          async (tx) => {
            tx.defer(batch, id);
            if (fail) throw new Error(`${id} failed`);
          },
          { aheadOfDeferred: true },
        );
      let seenByReader = -1;
      const results = Promise.allSettled([
        deferring('a'),
        deferring('b', true),
        db.writes.write(async (tx) => {
          [{ count: seenByReader }] = await sql(tx.manager, 'SELECT count(*) AS count FROM notes');
        }),
        deferring('d'),
      ]);
      holder.release();
      expect((await results).map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(flushes).toEqual([['a'], ['d']]);
      expect(seenByReader).toBe(1);
      expect(await storedNotes()).toEqual(['a', 'd']);
    });

    it('runs the writes again one by one when the flush fails, so only the culprit fails', async () => {
      const { batch, flushes } = noteBatch();
      const holder = holdQueue();
      const write = (id: string) => db.writes.write(async (tx) => tx.defer(batch, id), { aheadOfDeferred: true });
      const results = Promise.allSettled([write('a'), write('a'), write('c')]);
      holder.release();
      const [first, duplicate, third] = await results;
      expect(first.status).toBe('fulfilled');
      expect(duplicate).toMatchObject({ status: 'rejected', reason: { message: expect.stringContaining('UNIQUE constraint failed') } });
      expect(third.status).toBe('fulfilled');
      expect(flushes).toEqual([['a', 'a', 'c'], ['a'], ['a'], ['c']]);
      expect(await storedNotes()).toEqual(['a', 'c']);
    });
  });

  it('runs a write alone without a savepoint and rolls it back whole', async () => {
    await expect(
      db.writes.write(async (tx) => {
        await insertNote('alone')(tx);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await storedNotes()).toEqual([]);
    await expect(db.writes.write(insertNote('after'))).resolves.toBeDefined();
    expect(await storedNotes()).toEqual(['after']);
    expect(effectErrors).toEqual([]);
  });
});
