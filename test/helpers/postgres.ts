import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from '../../bench/lib/databases';
import { forEngine } from '../../src/db/engine';
import { ChildServer, useChildServers } from './child-server';
import { Receiver } from './receiver';

/**
 * Helpers of the PostgreSQL-only tests (test/postgres): servers pointed at DATABASE_URL, one-off
 * queries on a database by URL, free ports, and private clusters a test may stop and start.
 */

const run = promisify(execFile);

/** The environment of a child process pointed at the PostgreSQL database `url` (and not at any SQLite file). */
export function postgresEnv(url: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: url, ...extra };
  delete env.DATABASE_PATH;
  return env;
}

/** One statement on the database at `url` over a connection of its own (`?` placeholders, double-quoted names). */
export async function pgRows<T = Record<string, unknown>>(url: string, text: string, parameters: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query(forEngine('postgres', text), parameters)).rows as T[];
  } finally {
    await client.end();
  }
}

export { freePort };

/** The folder of initdb and pg_ctl: `DESKFORGE_TEST_POSTGRES_BIN`, else the newest /usr/lib/postgresql/<n>/bin. */
function postgresBin(): string {
  if (process.env.DESKFORGE_TEST_POSTGRES_BIN) return process.env.DESKFORGE_TEST_POSTGRES_BIN;
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((name) => existsSync(join(base, name, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('initdb was not found: set DESKFORGE_TEST_POSTGRES_BIN');
  return join(base, versions.sort((a, b) => Number(a) - Number(b)).at(-1)!, 'bin');
}

/** A PostgreSQL cluster of one test file only: stop it and start it again at will (same port, same data). */
export interface PrivateCluster {
  port: number;
  /** The folder of the data, the log and the socket. */
  folder: string;
  /** `postgres://postgres[:password]@127.0.0.1:<port>/<database>` */
  urlOf(database: string, password?: string): string;
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>`: `fast` ends the sessions and checkpoints, `immediate` just stops. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops it (if running) and removes its folder; never throws. */
  destroy(): Promise<void>;
}

/**
 * initdb in a new temp folder and start on a free loopback port. As root (the server refuses to run
 * as root) the cluster belongs to the `postgres` user. `password` makes the superuser's password that
 * and requires it (scram-sha-256); else trust.
 */
export async function startPrivateCluster({ password }: { password?: string } = {}): Promise<PrivateCluster> {
  const bin = postgresBin();
  const folder = mkdtempSync(join(tmpdir(), 'deskforge-private-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(folder, Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()), 0);
  const asOwner = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args);
  const data = join(folder, 'data');
  const initArgs = ['-D', data, '-U', 'postgres', '--no-sync'];
  if (password) {
    const pwfile = join(folder, 'pwfile');
    writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
    initArgs.push('-A', 'scram-sha-256', `--pwfile=${pwfile}`);
  } else {
    initArgs.push('-A', 'trust');
  }
  await asOwner('initdb', initArgs);
  const port = await freePort();
  let running = false;
  const cluster: PrivateCluster = {
    port,
    folder,
    urlOf: (database, pw) => `postgres://postgres${pw ? `:${encodeURIComponent(pw)}` : ''}@127.0.0.1:${port}/${database}`,
    async start() {
      await asOwner('pg_ctl', [
        '-D',
        data,
        '-w',
        '-t',
        '30',
        '-l',
        join(folder, 'server.log'),
        '-o',
        `-k ${folder} -c listen_addresses=127.0.0.1 -p ${port} -c fsync=off`,
        'start',
      ]);
      running = true;
    },
    async stop(mode = 'fast') {
      await asOwner('pg_ctl', ['-D', data, '-w', '-t', '30', '-m', mode, 'stop']);
      running = false;
    },
    async destroy() {
      if (running || existsSync(join(data, 'postmaster.pid'))) await cluster.stop('immediate').catch(() => undefined);
      rmSync(folder, { recursive: true, force: true });
    },
  };
  try {
    await cluster.start();
  } catch (error) {
    await cluster.destroy();
    throw error;
  }
  return cluster;
}

/** What `usePostgresServers` gives each test. */
export interface PostgresServerRig {
  receiver: Receiver;
  /** Spawns `node dist/src/main.js` on the database at `url` (see `spawnServer`); killed after the test if still running. */
  spawn(url: string, env?: Record<string, string>): Promise<ChildServer>;
}

/**
 * `useChildServers` for PostgreSQL: builds once; around every test a receiver (verifying with
 * `secret`) and servers pointed at DATABASE_URL, given longer to start (several start at once on a
 * shared machine), SIGKILLed after the test if still running.
 */
export function usePostgresServers(secret: string, startTimeoutMs = 40_000): PostgresServerRig {
  const children = useChildServers(secret, startTimeoutMs);
  const rig = {} as PostgresServerRig;
  beforeEach(() => {
    rig.receiver = children.receiver;
    rig.spawn = (url, env = {}) => children.spawn({ DATABASE_PATH: '', ...env, DATABASE_URL: url });
  });
  return rig;
}

/** True while the child has not exited. */
export function alive(child: ChildServer): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/** The server's origin (`http://127.0.0.1:<port>`), for /healthz and /metrics. */
export function originOf(child: ChildServer): string {
  return child.url.replace(/\/graphql$/, '');
}
