import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureBuilt, ROOT } from './build';
import { Receiver, startReceiver } from './receiver';
import { databaseEnv } from './test-database';

export interface ChildServer {
  process: ChildProcess;
  port: number;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** Every JSON log line so far. */
  logs: Array<Record<string, unknown>>;
  /** Settles when the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the compiled server (`node dist/src/main.js`, build it first with `ensureBuilt()`) on a free
 * port; resolves once it logs `listening on …`. Kill it in the test's cleanup.
 */
export function spawnServer(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildServer> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'main.js')], {
    env: { ...process.env, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const logs: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal}): ${stderr}`));
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line);
      } catch {
        return;
      }
      logs.push(entry);
      if (typeof entry.msg === 'string' && entry.msg.startsWith('listening on') && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve({ process: child, port: entry.port, url: `http://127.0.0.1:${entry.port}/graphql`, logs, exited });
      }
    });
  });
}

/** Creates an account in the database at `location` (a SQLite file or a PostgreSQL URL) with the account CLI. */
export function createAccountWithCli(location: string, name = 'Acme'): { accountId: string; apiKey: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'accounts', 'account-create.cli.js'), '--name', name], {
    env: { ...process.env, ...databaseEnv(location) },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`account:create failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim());
}

/** What `useChildServers` gives each test: a temp folder, a receiver, and servers that end with the test. */
export interface ChildServerRig {
  dir: string;
  receiver: Receiver;
  /** Spawns a server (see `spawnServer`); it is killed, if still running, after the test. */
  spawn(env: Record<string, string>): Promise<ChildServer>;
}

/**
 * For test files that run the compiled server as real processes: builds once, and around every
 * test makes a temp folder and a receiver (verifying with `secret`), then kills the test's servers
 * (SIGKILL if still running), closes the receiver and removes the folder.
 */
export function useChildServers(secret: string, startTimeoutMs?: number): ChildServerRig {
  const rig = {} as ChildServerRig;
  const children: ChildServer[] = [];
  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    rig.dir = mkdtempSync(join(tmpdir(), 'deskforge-child-'));
    rig.receiver = await startReceiver(secret);
    rig.spawn = async (env) => {
      const child = await spawnServer(env, startTimeoutMs);
      children.push(child);
      return child;
    };
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    await rig.receiver.close();
    rmSync(rig.dir, { recursive: true, force: true });
  });
  return rig;
}
