import { Client } from 'pg';
import sqlite3 from 'sqlite3';
import { BenchDatabase } from './databases';

/** A webhook's stored history made directly in SQL, as a service that ran for weeks would hold it. */
export interface HistorySeed {
  database: BenchDatabase;
  accountId: string;
  webhookId: string;
  deliveries: number;
  /** The deliveries are spread evenly over this many days, ending now. */
  days: number;
}

export interface SeededHistory {
  deliveries: number;
  attempts: number;
  /** How long writing it took. */
  seconds: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Unix epoch as a Julian day, for SQLite's date arithmetic. */
const UNIX_EPOCH_JULIAN = 2440587.5;
/** A stored `datetime` column's text, as TypeORM writes it on SQLite. */
const STORED = (julian: string) => `strftime('%Y-%m-%d %H:%M:%f', ${julian})`;

function run(db: sqlite3.Database, sql: string, parameters: unknown[] = []): Promise<void> {
  return new Promise((resolve, reject) => db.run(sql, parameters, (error) => (error ? reject(error) : resolve())));
}

function get<T>(db: sqlite3.Database, sql: string): Promise<T> {
  return new Promise((resolve, reject) => db.get(sql, (error, row) => (error ? reject(error) : resolve(row as T))));
}

/**
 * Writes `deliveries` events, one delivery of each to the webhook and their attempts, with
 * set-based INSERTs over a numbers table, beside the running service (SQLite in WAL mode lets both
 * open the file; on PostgreSQL another connection; the service is idle meanwhile and never learns
 * of these rows, so it attempts none). Of each 12 deliveries, 11 SUCCEEDED at the first attempt and
 * 1 FAILED after 4 (30 s, 5 min and 30 min apart); the newest 0.1% are PENDING after one attempt.
 * Durations: mostly 20–319 ms, one attempt in 20 slow (1–10 s). Then the database is left as after
 * a quiet night: SQLite's WAL checkpointed; PostgreSQL's tables vacuumed and analyzed (what
 * autovacuum does by then) and a checkpoint.
 */
export async function seedHistory(seed: HistorySeed): Promise<SeededHistory> {
  return seed.database.engine === 'postgres' ? seedPostgres(seed) : seedSqlite(seed);
}

async function seedSqlite({ database, accountId, webhookId, deliveries, days }: HistorySeed): Promise<SeededHistory> {
  const startedAt = performance.now();
  const db = new sqlite3.Database(database.location);
  try {
    await run(db, 'PRAGMA busy_timeout = 10000');
    await run(db, 'PRAGMA synchronous = OFF');
    const now = Date.now();
    const firstJulian = (now - days * DAY_MS) / DAY_MS + UNIX_EPOCH_JULIAN;
    const stepDays = days / deliveries;
    const pendingFrom = Math.floor(deliveries * 0.999);
    const created = `(${firstJulian} + "i" * ${stepDays})`;
    const status = `CASE WHEN "i" >= ${pendingFrom} THEN 'pending' WHEN "i" % 12 = 0 THEN 'failed' ELSE 'succeeded' END`;
    await run(db, 'BEGIN');
    await run(db, 'CREATE TEMP TABLE "n" ("i" INTEGER PRIMARY KEY)');
    await run(
      db,
      `WITH RECURSIVE "c" ("i") AS (SELECT 0 UNION ALL SELECT "i" + 1 FROM "c" WHERE "i" < ?) INSERT INTO "n" SELECT "i" FROM "c"`,
      [deliveries - 1],
    );
    await run(
      db,
      `INSERT INTO "events" ("id", "accountId", "type", "projectId", "buildId", "payload", "createdAt", "test")
       SELECT printf('evt_bench%015d', "i"), ?, 'project.created', 'proj_bench000000000000000', NULL,
              printf('{"id":"evt_bench%015d","type":"project.created"}', "i"), ${STORED(created)}, 0
       FROM "n"`,
      [accountId],
    );
    await run(
      db,
      `INSERT INTO "deliveries" ("id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt")
       SELECT printf('dlv_bench%015d', "i"), ?, ?, printf('evt_bench%015d', "i"), ${status},
              CASE WHEN ${status} = 'failed' THEN 4 ELSE 1 END,
              CASE WHEN ${status} = 'pending' THEN ${STORED(`${created} + 30 / 86400.0`)} END,
              ${STORED(created)},
              CASE ${status} WHEN 'pending' THEN NULL WHEN 'failed' THEN ${STORED(`${created} + 2131 / 86400.0`)} ELSE ${STORED(`${created} + 1 / 86400.0`)} END
       FROM "n"`,
      [accountId, webhookId],
    );
    // Attempt k of a delivery starts this many seconds after its creation (the default retry delays).
    await run(db, 'CREATE TEMP TABLE "k" ("number" INTEGER PRIMARY KEY, "afterSeconds" INTEGER)');
    await run(db, 'INSERT INTO "k" VALUES (1, 0), (2, 30), (3, 330), (4, 2130)');
    await run(
      db,
      `INSERT INTO "delivery_attempts" ("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error")
       SELECT printf('att_bench%014d%d', "i", "k"."number"), printf('dlv_bench%015d', "i"), "k"."number",
              ${STORED(`${created} + "k"."afterSeconds" / 86400.0`)},
              CASE WHEN ("i" * 7 + "k"."number") % 20 = 0 THEN 1000 + ("i" * 7919) % 9000 ELSE 20 + ("i" * 7919 + "k"."number") % 300 END,
              CASE WHEN ${status} = 'succeeded' THEN 200 ELSE 503 END, 'ok', NULL
       FROM "n" JOIN "k" ON "k"."number" = 1 OR ("i" % 12 = 0 AND "i" < ${pendingFrom})`,
    );
    await run(db, 'COMMIT');
    await run(db, 'PRAGMA wal_checkpoint(TRUNCATE)');
    const counts = await get<{ deliveries: number; attempts: number }>(
      db,
      `SELECT (SELECT COUNT(*) FROM "deliveries") AS "deliveries", (SELECT COUNT(*) FROM "delivery_attempts") AS "attempts"`,
    );
    return { ...counts, seconds: (performance.now() - startedAt) / 1000 };
  } finally {
    await new Promise<void>((resolve) => db.close(() => resolve()));
  }
}

/**
 * The same rows on PostgreSQL, from generate_series in one transaction (the numbers are `bigint`:
 * the duration formula's products pass 2^31). Dates are `timestamptz` from epoch seconds.
 */
async function seedPostgres({ database, accountId, webhookId, deliveries, days }: HistorySeed): Promise<SeededHistory> {
  const startedAt = performance.now();
  const client = new Client({ connectionString: database.location });
  await client.connect();
  try {
    const firstSeconds = (Date.now() - days * DAY_MS) / 1000;
    const stepSeconds = (days * DAY_MS) / 1000 / deliveries;
    const pendingFrom = Math.floor(deliveries * 0.999);
    const at = (afterSeconds: string) => `to_timestamp(${firstSeconds} + "i" * ${stepSeconds} + ${afterSeconds})`;
    const status = `CASE WHEN "i" >= ${pendingFrom} THEN 'pending' WHEN "i" % 12 = 0 THEN 'failed' ELSE 'succeeded' END`;
    await client.query('BEGIN');
    await client.query('CREATE TEMP TABLE "n" ("i" bigint PRIMARY KEY) ON COMMIT DROP');
    await client.query('INSERT INTO "n" SELECT generate_series(0::bigint, $1::bigint)', [deliveries - 1]);
    await client.query(
      `INSERT INTO "events" ("id", "accountId", "type", "projectId", "buildId", "payload", "createdAt", "test")
       SELECT 'evt_bench' || lpad("i"::text, 15, '0'), $1, 'project.created', 'proj_bench000000000000000', NULL,
              '{"id":"evt_bench' || lpad("i"::text, 15, '0') || '","type":"project.created"}', ${at('0')}, false
       FROM "n"`,
      [accountId],
    );
    await client.query(
      `INSERT INTO "deliveries" ("id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt")
       SELECT 'dlv_bench' || lpad("i"::text, 15, '0'), $1, $2, 'evt_bench' || lpad("i"::text, 15, '0'), ${status},
              CASE WHEN ${status} = 'failed' THEN 4 ELSE 1 END,
              CASE WHEN ${status} = 'pending' THEN ${at('30')} END,
              ${at('0')},
              CASE ${status} WHEN 'pending' THEN NULL WHEN 'failed' THEN ${at('2131')} ELSE ${at('1')} END
       FROM "n"`,
      [accountId, webhookId],
    );
    await client.query('CREATE TEMP TABLE "k" ("number" integer PRIMARY KEY, "afterSeconds" integer) ON COMMIT DROP');
    await client.query('INSERT INTO "k" VALUES (1, 0), (2, 30), (3, 330), (4, 2130)');
    await client.query(
      `INSERT INTO "delivery_attempts" ("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error")
       SELECT 'att_bench' || lpad("i"::text, 14, '0') || "k"."number", 'dlv_bench' || lpad("i"::text, 15, '0'), "k"."number",
              ${at('"k"."afterSeconds"')},
              CASE WHEN ("i" * 7 + "k"."number") % 20 = 0 THEN 1000 + ("i" * 7919) % 9000 ELSE 20 + ("i" * 7919 + "k"."number") % 300 END,
              CASE WHEN ${status} = 'succeeded' THEN 200 ELSE 503 END, 'ok', NULL
       FROM "n" JOIN "k" ON "k"."number" = 1 OR ("i" % 12 = 0 AND "i" < ${pendingFrom})`,
    );
    await client.query('COMMIT');
    await client.query('VACUUM (ANALYZE) "events", "deliveries", "delivery_attempts"');
    // Superusers only (or pg_checkpoint): a server of DESKFORGE_BENCH_DATABASE_URL may not allow it.
    await client.query('CHECKPOINT').catch(() => undefined);
    const { rows } = await client.query<{ deliveries: string; attempts: string }>(
      `SELECT (SELECT COUNT(*) FROM "deliveries") AS "deliveries", (SELECT COUNT(*) FROM "delivery_attempts") AS "attempts"`,
    );
    return { deliveries: Number(rows[0].deliveries), attempts: Number(rows[0].attempts), seconds: (performance.now() - startedAt) / 1000 };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
