import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/db/data-source-options';
import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema, entities } from '../../src/db/entities';
import { migrations } from '../../src/db/migrations';
import { createAccount, gqlOk } from '../helpers/graphql';
import { startTestServer } from '../helpers/server';

/** Tables, indexes and their SQL: what must be identical however the database got to the head. */
async function schemaOf(dataSource: DataSource): Promise<Array<{ name: string; sql: string }>> {
  return dataSource.query(
    "SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') AND name NOT LIKE 'sqlite_%' ORDER BY name",
  );
}

describe('migrations', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-migrations-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('build a fresh database with every table, and record every migration', async () => {
    const db = await openDatabase(join(dir, 'fresh.sqlite'), appDatabaseSchema);
    const tables = (await schemaOf(db.dataSource)).map((row) => row.name);
    expect(tables).toEqual(
      expect.arrayContaining([
        'accounts',
        'api_keys',
        'webhooks',
        'projects',
        'builds',
        'events',
        'deliveries',
        'delivery_attempts',
        'migrations',
      ]),
    );
    const applied = await db.dataSource.query('SELECT name FROM migrations');
    expect(applied).toHaveLength(migrations.length);
    expect(await db.dataSource.driver.createSchemaBuilder().log()).toMatchObject({ upQueries: [] });
    const [{ journal_mode }] = await db.dataSource.query('PRAGMA journal_mode');
    expect(journal_mode).toBe('wal');
    const [{ foreign_keys }] = await db.dataSource.query('PRAGMA foreign_keys');
    expect(foreign_keys).toBe(1);
    await db.close();
  });

  it.each(migrations.map((_, index) => index))(
    'bring a database made by the first %i migration(s) to the same schema as a fresh one',
    async (count) => {
      const fresh = await openDatabase(join(dir, `reference-${count}.sqlite`), appDatabaseSchema);
      const reference = await schemaOf(fresh.dataSource);
      await fresh.close();

      const path = join(dir, `old-${count}.sqlite`);
      const old = new DataSource(dataSourceOptions(path, { entities, migrations: migrations.slice(0, count) }));
      await old.initialize();
      await old.runMigrations();
      await old.destroy();

      const upgraded = await openDatabase(path, appDatabaseSchema);
      expect(await schemaOf(upgraded.dataSource)).toEqual(reference);
      await upgraded.close();
    },
  );

  it('leave an existing database and its rows alone on restart', async () => {
    const first = await startTestServer();
    const account = await createAccount(first.app);
    await gqlOk(first.url, 'mutation { createProject(input: { name: "Kept" }) { id } }', {}, account.apiKey);
    const databasePath = first.config.databasePath;
    await first.app.stop();

    const second = await startTestServer({ databasePath });
    try {
      const data = await gqlOk(second.url, '{ projects { totalCount nodes { name } } events { totalCount } }', {}, account.apiKey);
      expect(data.projects).toEqual({ totalCount: 1, nodes: [{ name: 'Kept' }] });
      expect(data.events.totalCount).toBe(1);
      const applied = await second.app.db.dataSource.query('SELECT name FROM migrations');
      expect(applied).toHaveLength(migrations.length);
    } finally {
      await second.stop();
      rmSync(first.dir, { recursive: true, force: true });
    }
  });
});
