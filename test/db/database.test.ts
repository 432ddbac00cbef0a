import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { WRITER_CHECKPOINT_PAGES } from '../../src/db/wal-checkpointer';
import { waitFor } from '../helpers/wait-for';

/** Opens the database's connections are on: the main database file of one of them. */
async function fileOf(connection: { query(sql: string): Promise<Array<{ name: string; file: string }>> }): Promise<string> {
  const [main] = (await connection.query('PRAGMA database_list')).filter((row) => row.name === 'main');
  return main.file;
}

describe('DATABASE_PATH=:memory:', () => {
  it('never shows a read a row of a write still open, nor one it rolled back', async () => {
    const db = await openDatabase(':memory:', appDatabaseSchema);
    try {
      let open!: () => void;
      const held = new Promise<void>((resolve) => (open = resolve));
      let inserted = false;
      const write = db.writes.write(async ({ manager }) => {
        await manager.query(
          `INSERT INTO "accounts" ("id", "name", "createdAt") VALUES ('acc_uncommitted', 'Uncommitted', '2024-01-01 00:00:00.000')`,
        );
        inserted = true;
        await held;
        throw new Error('rolled back on purpose');
      });
      await waitFor(() => inserted, { what: 'the write to insert its row' });
      for (let n = 0; n < 4; n += 1) expect(await db.reader.query(`SELECT id FROM accounts WHERE id = 'acc_uncommitted'`)).toEqual([]);
      open();
      await expect(write).rejects.toThrow('rolled back on purpose');
      expect(await db.reader.query(`SELECT id FROM accounts WHERE id = 'acc_uncommitted'`)).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('reads what committed, is private to the process that opened it, and leaves no file behind', async () => {
    const first = await openDatabase(':memory:', appDatabaseSchema);
    const second = await openDatabase(':memory:', appDatabaseSchema);
    const file = await fileOf(first.dataSource);
    try {
      await first.writes.write(({ manager }) =>
        manager.query(
          `INSERT INTO "accounts" ("id", "name", "createdAt") VALUES ('acc_committed', 'Committed', '2024-01-01 00:00:00.000')`,
        ),
      );
      for (let n = 0; n < 4; n += 1) expect(await first.reader.query('SELECT id FROM accounts')).toEqual([{ id: 'acc_committed' }]);
      expect(await second.reader.query('SELECT id FROM accounts')).toEqual([]);
      expect(await fileOf(second.dataSource)).not.toBe(file);
    } finally {
      await first.close();
      await second.close();
    }
    expect(file).not.toBe('');
    expect(existsSync(file)).toBe(false);
  });
});

describe('WAL checkpoints (SQLite)', () => {
  it('are made beside the writer: its commits leave them to the checkpointing connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'deskforge-checkpoint-'));
    const file = join(dir, 'db.sqlite');
    const db = await openDatabase(file, appDatabaseSchema);
    try {
      expect(await db.dataSource.query('PRAGMA wal_autocheckpoint')).toEqual([{ wal_autocheckpoint: WRITER_CHECKPOINT_PAGES }]);
      const before = statSync(file).size;
      // About 2 MB: below the writer's own threshold, so only the checkpointer copies it into the file.
      await db.writes.write(async ({ manager }) => {
        await manager.query('CREATE TABLE "filler" ("body" TEXT NOT NULL)');
        for (let i = 0; i < 20; i += 1) await manager.query('INSERT INTO "filler" ("body") VALUES (?)', ['x'.repeat(100_000)]);
      });
      await waitFor(() => statSync(file).size >= before + 2_000_000, {
        what: 'the main database file to receive the WAL pages',
        timeoutMs: 5_000,
      });
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
