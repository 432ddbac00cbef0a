import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { atExit } from './at-exit';

/**
 * Where the bench's services keep their data: a SQLite file per service (the default), or a
 * database per service on a PostgreSQL server (`--engine postgres`), either one the operator runs
 * (`DESKFORGE_BENCH_DATABASE_URL`) or a throwaway one the bench starts and stops.
 */
export type BenchEngine = 'sqlite' | 'postgres';
export const ENGINES: readonly BenchEngine[] = ['sqlite', 'postgres'];

/** One database a service (and the processes sharing it) runs on. */
export interface BenchDatabase {
  engine: BenchEngine;
  /** The SQLite file path, or the `postgres://` URL of the database. */
  location: string;
  /** The environment that points a service or the account CLI at it (`DATABASE_PATH` or `DATABASE_URL`). */
  env: Record<string, string>;
}

export interface CreatedDatabase {
  database: BenchDatabase;
  /** Removes it (the file and its folder; or DROP DATABASE … WITH (FORCE)). */
  drop(): Promise<void>;
}

/** The PostgreSQL server of a postgres run, for the helpers that look into it (`bounds.ts`). */
export interface PostgresServer {
  /** Superuser on its `postgres` database. */
  adminUrl: string;
  /** The postmaster's pid when the server runs on this machine (then its CPU can be read from /proc). */
  postmasterPid?: number;
  /** True for the throwaway server the bench started. */
  throwaway: boolean;
  /** `server_version`. */
  version: string;
}

export interface DatabaseHost {
  engine: BenchEngine;
  /** A new, empty database; the service's migrations build its tables on first start. */
  create(): Promise<CreatedDatabase>;
  /** Set on PostgreSQL. */
  postgres?: PostgresServer;
  /** Stops what the host started (the throwaway server); the databases are dropped one by one before. */
  close(): Promise<void>;
}

/** The environment of a child on `database`: the bench's own, without any database setting of the shell. */
export function databaseEnv(database: BenchDatabase, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.DATABASE_URL;
  delete env.DATABASE_PATH;
  return { ...env, ...database.env };
}

/** SQLite: a fresh file in a temp folder of its own, removed with the folder. */
export function sqliteHost(): DatabaseHost {
  return {
    engine: 'sqlite',
    async create() {
      const dir = mkdtempSync(join(tmpdir(), 'deskforge-bench-db-'));
      const location = join(dir, 'bench.sqlite');
      return {
        database: { engine: 'sqlite', location, env: { DATABASE_PATH: location } },
        drop: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
    close: async () => undefined,
  };
}

/** Runs one statement on the server's `postgres` database, on a connection of its own. */
export async function adminQuery<T = Record<string, unknown>>(adminUrl: string, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(sql, parameters)).rows as T[];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The URL of database `name` on the server of `adminUrl`. */
export function databaseUrlOf(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The database name of a `postgres://` URL. */
export function databaseNameOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.replace(/^\//, ''));
}

/**
 * PostgreSQL: `DESKFORGE_BENCH_DATABASE_URL` (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)
 * when set, else a throwaway server (`startThrowawayPostgres`). Each `create()` is a CREATE DATABASE
 * `bench_<pid>_<n>_<random>`, dropped when its service stops; whatever is left when the bench exits
 * (Ctrl-C, a failure) is dropped then.
 */
export async function postgresHost(log: (message: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<DatabaseHost> {
  const given = env.DESKFORGE_BENCH_DATABASE_URL?.trim();
  let server: PostgresServer;
  let stopServer: () => void = () => undefined;
  if (given) {
    if (!/^postgres(ql)?:\/\//i.test(given))
      throw new Error('DESKFORGE_BENCH_DATABASE_URL must be a postgres:// URL (a user that may CREATE DATABASE)');
    const [{ server_version: version }] = await adminQuery<{ server_version: string }>(given, 'SHOW server_version');
    server = { adminUrl: given, postmasterPid: await localPostmasterPid(given), throwaway: false, version };
    log(
      `postgres: using the server of DESKFORGE_BENCH_DATABASE_URL (${redact(given)})${server.postmasterPid ? `, postmaster pid ${server.postmasterPid}` : ', not on this machine: no server CPU figures'}`,
    );
  } else {
    const throwaway = await startThrowawayPostgres();
    server = { adminUrl: throwaway.adminUrl, postmasterPid: throwaway.postmasterPid, throwaway: true, version: throwaway.version };
    stopServer = throwaway.stop;
    log(
      `postgres: throwaway server ${throwaway.version} on 127.0.0.1:${throwaway.port} (data in ${throwaway.dataDir}, fsync on, default settings)`,
    );
  }
  const prefix = `bench_${process.pid}_`;
  let created = 0;
  // Exit hooks run synchronously: psql drops whatever of this bench process is left (by the name's
  // prefix, so also one whose CREATE had not answered yet); only needed on a server that outlives the bench.
  const forgetLeftovers = atExit(() => {
    if (server.throwaway) return;
    const psql = (sql: string) => spawnSync('psql', [server.adminUrl, '-qAt', '-c', sql], { encoding: 'utf8', timeout: 10_000 });
    const names = (psql(`SELECT datname FROM pg_database WHERE starts_with(datname, '${prefix}')`).stdout ?? '')
      .split('\n')
      .filter(Boolean);
    for (const name of names) psql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  return {
    engine: 'postgres',
    postgres: server,
    async create() {
      const name = `${prefix}${++created}_${randomBytes(3).toString('hex')}`;
      await adminQuery(server.adminUrl, `CREATE DATABASE "${name}"`);
      const location = databaseUrlOf(server.adminUrl, name);
      return {
        database: { engine: 'postgres', location, env: { DATABASE_URL: location } },
        drop: async () => {
          await adminQuery(server.adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        },
      };
    },
    async close() {
      forgetLeftovers();
      stopServer();
    },
  };
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The postmaster of the server at `url` when it runs on this machine: the parent of our backend, if /proc shows a `postgres` there. */
async function localPostmasterPid(url: string): Promise<number | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    // Read while the connection (its backend process) is still open.
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const stat = readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8');
    if (!stat.includes('(postgres)')) return undefined;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return readFileSync(`/proc/${ppid}/comm`, 'utf8').trim() === 'postgres' ? ppid : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface ThrowawayPostgres {
  adminUrl: string;
  port: number;
  dataDir: string;
  postmasterPid?: number;
  version: string;
  /** Synchronous (it also runs from the exit hook): `pg_ctl stop -m immediate` by the data folder, then removes the folder. */
  stop(): void;
}

/** PostgreSQL's server binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/<version>/bin. */
export function postgresBinDir(): string {
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (existsSync(join(bin, 'initdb'))) return bin;
  } catch {
    // no pg_config on PATH
  }
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number(a) - Number(b));
  if (versions.length === 0) {
    throw new Error(
      "PostgreSQL's server binaries (initdb, pg_ctl) were not found. Install them (Debian: apt-get install -y postgresql), " +
        'or set DESKFORGE_BENCH_DATABASE_URL=postgres://user@127.0.0.1:5432/postgres to use a server you run.',
    );
  }
  return join(root, versions[versions.length - 1], 'bin');
}

/** A loopback port nobody listens on right now (the tests' PostgreSQL clusters use it too). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a PostgreSQL server the way scripts/throwaway-postgres.sh does (a fresh cluster in a temp
 * folder, trust auth on 127.0.0.1, a free port, owned by the `postgres` user when the bench runs as
 * root), but with the server's durability settings at their defaults: fsync, full_page_writes and
 * synchronous_commit stay on, so commits cost what they cost on a real server. Only
 * max_connections is raised (each service process holds 11 connections). Stopped by its data
 * folder with `-m immediate` when the bench ends, however it ends.
 */
export async function startThrowawayPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBinDir();
  const folder = mkdtempSync(join(tmpdir(), 'deskforge-bench-pg-'));
  const dataDir = join(folder, 'data');
  let asOwner: string[] = [];
  if (process.getuid?.() === 0) {
    // The server refuses to run as root: the cluster belongs to the postgres user.
    if (spawnSync('id', ['postgres'], { stdio: 'ignore' }).status !== 0)
      execFileSync('useradd', ['--system', '--no-create-home', 'postgres']);
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(folder, uid, gid);
    asOwner = ['runuser', '-u', 'postgres', '--'];
  }
  const run = (program: string, args: string[], logName: string) => {
    const logFd = openSync(join(folder, logName), 'a');
    try {
      const [command, ...rest] = [...asOwner, join(bin, program), ...args];
      const result = spawnSync(command, rest, { stdio: ['ignore', logFd, logFd], timeout: 60_000 });
      if (result.status !== 0)
        throw new Error(
          `${program} failed (${result.error?.message ?? `exit ${result.status}`}):\n${readTail(join(folder, logName))}\n${readTail(join(folder, 'server.log'))}`,
        );
    } finally {
      closeSync(logFd);
    }
  };
  let started = false;
  const stop = () => {
    if (started) {
      const [command, ...rest] = [...asOwner, join(bin, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', 'stop'];
      spawnSync(command, rest, { stdio: 'ignore', timeout: 30_000 });
      started = false;
    }
    rmSync(folder, { recursive: true, force: true });
  };
  const forget = atExit(stop);
  try {
    const port = await freePort();
    run('initdb', ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8'], 'initdb.log');
    run(
      'pg_ctl',
      [
        '-D',
        dataDir,
        '-w',
        '-t',
        '60',
        '-l',
        join(folder, 'server.log'),
        '-o',
        `-k ${folder} -c listen_addresses=127.0.0.1 -p ${port} -c max_connections=200`,
        'start',
      ],
      'pg_ctl.log',
    );
    started = true;
    const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const [{ server_version: version }] = await adminQuery<{ server_version: string }>(adminUrl, 'SHOW server_version');
    const pidLine = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
    return {
      adminUrl,
      port,
      dataDir,
      postmasterPid: Number(pidLine) || undefined,
      version,
      stop: () => {
        forget();
        stop();
      },
    };
  } catch (error) {
    forget();
    stop();
    throw error;
  }
}

function readTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '';
  }
}
