import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../../src/db/raw-sql';

/**
 * The engine this test run is on: `npm test` runs the suite once on SQLite and once on PostgreSQL
 * (the jest projects in jest.config.js), the second with `DESKFORGE_TEST_ENGINE=postgres` and the
 * server of `DESKFORGE_TEST_DATABASE_URL` (see scripts/throwaway-postgres.sh).
 */
export type TestEngine = 'sqlite' | 'postgres';
export const testEngine: TestEngine = process.env.DESKFORGE_TEST_ENGINE === 'postgres' ? 'postgres' : 'sqlite';

/** The PostgreSQL server's URL for the test run (its superuser and its `postgres` database). */
export function postgresAdminUrl(): string {
  const url = process.env.DESKFORGE_TEST_DATABASE_URL;
  if (!url)
    throw new Error(
      'the PostgreSQL test run needs DESKFORGE_TEST_DATABASE_URL (npm test starts a throwaway server: scripts/throwaway-postgres.sh)',
    );
  return url;
}

/** The URL of database `name` on the test server. */
export function postgresUrlOf(name: string): string {
  const url = new URL(postgresAdminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs SQL on the test server's `postgres` database with psql (synchronously: tests make databases where they make paths). */
export function psql(sql: string): string {
  return execFileSync('psql', [postgresAdminUrl(), '-qAt', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8' });
}

const created: string[] = [];

/**
 * A new, empty database for one test: on SQLite the file `<name>.sqlite` in `dir` (made on first
 * open); on PostgreSQL a new database on the test server, dropped after the test file (see
 * `dropTestDatabases`). Pass the result wherever a database location goes: `openDatabase`,
 * `databaseEnv` for a child process, `{ databaseUrl }`/`{ databasePath }` via `databaseOverrides`.
 */
export function freshDatabase(dir: string, name = 'test'): string {
  if (testEngine === 'sqlite') return join(dir, `${name}.sqlite`);
  const database = `t_${process.pid}_${created.length}_${randomBytes(3).toString('hex')}`;
  psql(`CREATE DATABASE "${database}"`);
  created.push(database);
  return postgresUrlOf(database);
}

/** Drops the databases this test file made (whoever still holds a connection to one). */
export function dropTestDatabases(): void {
  while (created.length > 0) psql(`DROP DATABASE IF EXISTS "${created.pop()}" WITH (FORCE)`);
}

/** The environment that points a child process (the server, the account CLI) at `location`. */
export function databaseEnv(location: string): Record<string, string> {
  return /^postgres(ql)?:/.test(location) ? { DATABASE_URL: location } : { DATABASE_PATH: location };
}

/** The config fields that point a test server at `location`. */
export function databaseOverrides(location: string): { databasePath?: string; databaseUrl?: string } {
  return /^postgres(ql)?:/.test(location) ? { databaseUrl: location } : { databasePath: location };
}

/**
 * Runs a test's SQL (with `?` placeholders, camelCase names in double quotes) on either engine.
 * Text of digits only comes back as a number, whatever the engine: PostgreSQL answers `count(*)`
 * as text (no test stores such text).
 */
export async function sql<T = any>(target: DataSource | EntityManager, text: string, parameters: unknown[] = []): Promise<T[]> {
  const rows = await queryRows<Record<string, unknown>>(target, text, parameters);
  return rows.map((row) => {
    const converted: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(row))
      converted[key] = typeof value === 'string' && /^\d{1,15}$/.test(value) ? Number(value) : value;
    return converted as T;
  });
}

/**
 * A trigger that refuses the INSERTs into `table` (those where `when` holds, an SQL condition on
 * `NEW`, or all) with `message`, on either engine; returns how to remove it. For tests of what
 * happens when the database refuses a write.
 */
export async function refuseInserts(
  source: DataSource,
  table: string,
  name: string,
  message: string,
  when = 'TRUE',
): Promise<() => Promise<void>> {
  if (source.options.type === 'postgres') {
    await source.query(
      `CREATE FUNCTION "${name}"() RETURNS trigger AS $$ BEGIN IF ${when} THEN RAISE EXCEPTION '${message}'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await source.query(`CREATE TRIGGER "${name}" BEFORE INSERT ON "${table}" FOR EACH ROW EXECUTE FUNCTION "${name}"()`);
    return async () => {
      await source.query(`DROP TRIGGER "${name}" ON "${table}"`);
      await source.query(`DROP FUNCTION "${name}"()`);
    };
  }
  await source.query(`CREATE TRIGGER "${name}" BEFORE INSERT ON "${table}" WHEN ${when} BEGIN SELECT RAISE(ABORT, '${message}'); END`);
  return async () => {
    await source.query(`DROP TRIGGER "${name}"`);
  };
}
