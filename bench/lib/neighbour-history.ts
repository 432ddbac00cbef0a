import { Client } from 'pg';
import sqlite3 from 'sqlite3';
import { BenchDatabase } from './databases';
import { seedHistory, SeededHistory } from './history-seed';

/** What the heavy account of `noisy-neighbour` stores before it starts asking. */
export interface NeighbourHistory {
  database: BenchDatabase;
  accountId: string;
  /** Its webhooks; the deliveries are dealt round-robin between them. */
  webhookIds: string[];
  deliveries: number;
  /** Characters of padding in each stored event's body, so pages of events weigh what a big build's would. */
  payloadPadding: number;
}

/**
 * `seedHistory`'s rows (one day of them) dealt between `webhookIds`, so every webhook has its share
 * of deliveries and attempts to aggregate, every delivery ended (the service has nothing of it to
 * attempt) and every event body `payloadPadding` characters longer.
 */
export async function seedNeighbourHistory(seed: NeighbourHistory): Promise<SeededHistory> {
  const startedAt = performance.now();
  const seeded = await seedHistory({
    database: seed.database,
    accountId: seed.accountId,
    webhookId: seed.webhookIds[0],
    deliveries: seed.deliveries,
    days: 1,
  });
  await (seed.database.engine === 'postgres' ? spreadPostgres(seed) : spreadSqlite(seed));
  return { ...seeded, seconds: (performance.now() - startedAt) / 1000 };
}

/** The statements of the spread, with `?` placeholders; `seedHistory` ids end in the row's number. */
function spreadStatements(count: number, padding: string, number: (column: string) => string): Array<[string, unknown[]]> {
  return [
    [
      `UPDATE "deliveries" SET "webhookId" = (SELECT "id" FROM "w" WHERE "n" = ${number('"deliveries"."id"')} % ?) WHERE "id" LIKE 'dlv_bench%'`,
      [count],
    ],
    [
      `UPDATE "deliveries" SET "status" = 'succeeded', "nextAttemptAt" = NULL, "completedAt" = "createdAt" WHERE "status" = 'pending' AND "id" LIKE 'dlv_bench%'`,
      [],
    ],
    [
      `UPDATE "events" SET "payload" = '{"id":"' || "id" || '","type":"project.created","padding":"' || ? || '"}' WHERE "id" LIKE 'evt_bench%'`,
      [padding],
    ],
  ];
}

function run(db: sqlite3.Database, sql: string, parameters: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, parameters, (error) => (error ? reject(error) : resolve())));
}

async function spreadSqlite({ database, webhookIds, payloadPadding }: NeighbourHistory): Promise<void> {
  const db = new sqlite3.Database(database.location);
  try {
    await run(db, 'PRAGMA busy_timeout = 10000');
    await run(db, 'BEGIN IMMEDIATE');
    await run(db, 'CREATE TEMP TABLE "w" ("n" INTEGER PRIMARY KEY, "id" TEXT)');
    for (const [n, id] of webhookIds.entries()) await run(db, 'INSERT INTO "w" VALUES (?, ?)', [n, id]);
    for (const [sql, parameters] of spreadStatements(
      webhookIds.length,
      'x'.repeat(payloadPadding),
      (column) => `CAST(substr(${column}, 10) AS INTEGER)`,
    )) {
      await run(db, sql, parameters);
    }
    await run(db, 'COMMIT');
    await run(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

async function spreadPostgres({ database, webhookIds, payloadPadding }: NeighbourHistory): Promise<void> {
  const client = new Client({ connectionString: database.location });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE "w" ("n" bigint PRIMARY KEY, "id" text) ON COMMIT DROP');
    await client.query('INSERT INTO "w" SELECT "n" - 1, "id" FROM unnest($1::text[]) WITH ORDINALITY AS "u" ("id", "n")', [webhookIds]);
    for (const [sql, parameters] of spreadStatements(
      webhookIds.length,
      'x'.repeat(payloadPadding),
      (column) => `substr(${column}, 10)::bigint`,
    )) {
      let index = 0;
      await client.query(
        sql.replace(/\?/g, () => `$${++index}`),
        parameters,
      );
    }
    await client.query('COMMIT');
    await client.query('VACUUM (ANALYZE) "events", "deliveries"');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
