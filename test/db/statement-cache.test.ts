import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryFailedError } from 'typeorm';
import { Database, openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { MAX_KEPT_SQL, queryRows } from '../../src/db/raw-sql';
import { MAX_STATEMENTS, readRows } from '../../src/db/statement-cache';

describe('readRows (kept prepared statements)', () => {
  let dir: string;
  let db: Database;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-statements-'));
    db = await openDatabase(join(dir, 'db.sqlite'), appDatabaseSchema);
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers with the parameters of each call', async () => {
    const reader = db.reader;
    const sql = 'SELECT ? + 1 AS "n"';
    const answers = await Promise.all([1, 2, 3].map((n) => readRows<{ n: number }>(reader, sql, [n])));
    expect(answers.map((rows) => rows[0].n)).toEqual([2, 3, 4]);
  });

  it('rejects a statement that cannot be prepared, every time, with QueryFailedError, and goes on', async () => {
    const reader = db.reader;
    for (let i = 0; i < 2; i += 1) {
      await expect(readRows(reader, 'SELECT * FROM "no_such_table"', [])).rejects.toBeInstanceOf(QueryFailedError);
    }
    expect(await readRows(reader, 'SELECT 7 AS "n"', [])).toEqual([{ n: 7 }]);
  });

  it('keeps answering past the statement bound, and the database still closes', async () => {
    const reader = db.reader;
    for (let i = 0; i < MAX_STATEMENTS + 10; i += 1) {
      expect(await readRows<{ n: number }>(reader, `SELECT ${i} AS "n"`, [])).toEqual([{ n: i }]);
    }
    const other = await openDatabase(join(dir, 'db.sqlite'), appDatabaseSchema);
    await readRows(other.reader, 'SELECT 1', []);
    await expect(other.close()).resolves.toBeUndefined();
  });
});

describe('queryRows on SQLite (write statements kept prepared)', () => {
  let dir: string;
  let db: Database;
  let prepares: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-kept-writes-'));
    db = await openDatabase(join(dir, 'db.sqlite'), appDatabaseSchema);
    await queryRows(db.dataSource, 'CREATE TABLE "notes" ("id" TEXT PRIMARY KEY, "body" TEXT NOT NULL)');
    // Counts the statements the kept path prepares on the writing connection.
    const handle = (db.dataSource.driver as unknown as { databaseConnection: { prepare: (sql: string, ...rest: unknown[]) => unknown } })
      .databaseConnection;
    const prepare = handle.prepare.bind(handle);
    handle.prepare = (sql, ...rest) => {
      prepares.push(sql);
      return prepare(sql, ...rest);
    };
  });
  beforeEach(() => {
    prepares = [];
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const insert = 'INSERT INTO "notes" ("id", "body") VALUES (?, ?) RETURNING "id"';

  it('prepares a short statement once, and each write transaction keeps or undoes its own rows', async () => {
    const results = await Promise.allSettled(
      ['a', 'b', 'a', 'c'].map((id, index) =>
        db.writes.write(async ({ manager }) => queryRows<{ id: string }>(manager, insert, [id, `body ${index}`])),
      ),
    );
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(QueryFailedError);
    expect(await queryRows(db.reader, 'SELECT "id", "body" FROM "notes" ORDER BY "id"')).toEqual([
      { id: 'a', body: 'body 0' },
      { id: 'b', body: 'body 1' },
      { id: 'c', body: 'body 3' },
    ]);
    await db.writes.write(async ({ manager }) => queryRows(manager, insert, ['d', 'body 4']));
    expect(prepares.filter((sql) => sql === insert)).toHaveLength(1);
  });

  it('runs a statement longer than MAX_KEPT_SQL without keeping it', async () => {
    const ids = Array.from({ length: 400 }, (_, i) => `long-${i}`);
    const long = `INSERT INTO "notes" ("id", "body") VALUES ${ids.map(() => '(?, ?)').join(', ')} RETURNING "id"`;
    expect(long.length).toBeGreaterThan(MAX_KEPT_SQL);
    const rows = await db.writes.write(async ({ manager }) =>
      queryRows<{ id: string }>(
        manager,
        long,
        ids.flatMap((id) => [id, 'x']),
      ),
    );
    expect(rows).toHaveLength(400);
    expect(prepares).toEqual([]);
  });
});
