import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QueryFailedError } from 'typeorm';
import { Database, openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
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
