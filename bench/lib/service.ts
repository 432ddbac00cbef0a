import { ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stopChild, trackChild } from './children';
import { ALL_EVENT_TYPES, CREATE_PROJECT, CREATE_WEBHOOK } from './documents';
import { graphqlRequest } from './graphql-client';
import { requireOpenFiles } from './open-files';
import { pollUntil } from './pacer';
import { atExit } from './at-exit';
import { BenchDatabase, databaseEnv, DatabaseHost } from './databases';
import { ACCOUNT_CLI, PROJECT_ROOT, SERVICE_MAIN } from './paths';
import { readRssBytes } from './rss';

/** The real service, started the way `npm start` starts it, with an account to use. */
export interface Service {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  pid: number;
  apiKey: string;
  /** Its database: a SQLite file or a PostgreSQL database (other processes may share it). */
  database: BenchDatabase;
  rssBytes(): number | undefined;
  /** From spawning the process to its first 200 from /healthz. */
  healthyAfterMs: number;
  /** SIGTERM (the service's own graceful shutdown), then removes the temp folder and the database it created. */
  stop(): Promise<void>;
}

/** Creates an account with the account CLI in `database` (migrating it first if it is new). */
export async function createBenchAccount(database: BenchDatabase): Promise<{ accountId: string; apiKey: string }> {
  const { stdout } = await execFileAsync(process.execPath, [ACCOUNT_CLI, '--name', 'Bench'], {
    cwd: PROJECT_ROOT,
    env: databaseEnv(database),
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim()) as { accountId: string; apiKey: string };
}

export interface ServiceOptions {
  /** Sockets the service will hold; starting fails early when the open-files limit is lower. */
  openFiles?: number;
  /**
   * An existing database (with its account) instead of a fresh one, e.g. another service's (then the
   * processes share it); it is not removed on stop.
   */
  existing?: { database: BenchDatabase; apiKey: string };
  /** More environment for the service (`DESKFORGE_ROLES`, …). */
  env?: Record<string, string>;
}

const execFileAsync = promisify(execFile);

/**
 * Starts `node dist/src/main.js` (what `npm start` runs after building) on a free port with a fresh
 * database from `host` (a SQLite file in a temp folder, or a new PostgreSQL database) and private
 * URLs allowed, then creates an account with the account CLI. Logs (level info, the default) go to
 * a file in a temp folder, not through the bench.
 */
export async function startService(host: DatabaseHost, options: ServiceOptions = {}): Promise<Service> {
  if (options.openFiles) requireOpenFiles(options.openFiles);
  const created = options.existing ? undefined : await host.create();
  const database = options.existing?.database ?? created!.database;
  const dir = mkdtempSync(join(tmpdir(), 'deskforge-bench-'));
  const logPath = join(dir, 'service.log');
  const env = {
    ...databaseEnv(database),
    PORT: '0',
    WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    LOG_LEVEL: 'info',
    ...options.env,
  };
  const startedAt = Date.now();
  const logFd = openSync(logPath, 'a');
  // BENCH_SERVICE_NODE_ARGS: extra node flags for the service only, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.BENCH_SERVICE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, SERVICE_MAIN], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  trackChild(child);
  // On Ctrl-C the child is killed and its folder removed on the way out (see run.ts).
  const forgetFolder = atExit(() => rmSync(dir, { recursive: true, force: true }));
  let stopping: Promise<void> | undefined;
  const cleanUp = () =>
    (stopping ??= (async () => {
      await stopChild(child, 15_000);
      forgetFolder();
      rmSync(dir, { recursive: true, force: true });
      await created?.drop();
    })());

  try {
    const port = await pollUntil(
      () => {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`service exited on start:\n${tail(logPath)}`);
        const match = /"port":(\d+).*listening on/.exec(readFileSync(logPath, 'utf8'));
        return match ? Number(match[1]) : undefined;
      },
      30_000,
      `service did not log "listening on" within 30 s:\n${tail(logPath)}`,
      20,
    );
    const origin = `http://127.0.0.1:${port}`;
    const healthyAfterMs = await pollUntil(
      async () => ((await fetch(`${origin}/healthz`).catch(() => undefined))?.status === 200 ? Date.now() - startedAt : undefined),
      30_000,
      'service did not answer /healthz within 30 s',
      20,
    );
    const apiKey = options.existing?.apiKey ?? (await createBenchAccount(database)).apiKey;
    return {
      healthyAfterMs,
      database,
      origin,
      url: `${origin}/graphql`,
      wsUrl: `ws://127.0.0.1:${port}/graphql`,
      pid: child.pid!,
      apiKey,
      rssBytes: () => readRssBytes(child.pid!),
      stop: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Webhooks on all seven event types, one per URL; returns their ids. */
export async function createWebhooks(service: Service, urls: string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [index, url] of urls.entries()) {
    const data = await graphqlRequest<{ createWebhook: { webhook: { id: string } } }>(service.url, service.apiKey, CREATE_WEBHOOK, {
      input: { url, events: ALL_EVENT_TYPES, description: `bench receiver ${index}` },
    });
    ids.push(data.createWebhook.webhook.id);
  }
  return ids;
}

export async function createProject(service: Service, name = 'Bench Desktop App'): Promise<string> {
  const data = await graphqlRequest<{ createProject: { id: string } }>(service.url, service.apiKey, CREATE_PROJECT, { input: { name } });
  return data.createProject.id;
}
