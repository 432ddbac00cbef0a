import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './build';
import { waitFor } from './wait-for';

export interface ListenProcess {
  process: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** `lines` parsed, for `--json` runs (lines that are not JSON are left out). */
  readonly json: Array<Record<string, any>>;
  /** Everything on stderr so far. */
  readonly stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until `count` stdout lines pass `keep`; returns them. */
  waitForLines(count: number, keep?: (line: string) => boolean, timeoutMs?: number): Promise<string[]>;
  /** Waits for the ready message (both formats). */
  waitForReady(timeoutMs?: number): Promise<void>;
  /** SIGINT, as Ctrl-C; resolves with the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs the compiled `listen` command (`node dist/src/listen/listen.cli.js`, build it first with
 * `ensureBuilt()`) with `args`, the key in `DESKFORGE_API_KEY` when given. Stop it in the test's cleanup.
 */
export function spawnListen(args: string[], apiKey?: string): ListenProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DESKFORGE_API_KEY;
  if (apiKey !== undefined) env.DESKFORGE_API_KEY = apiKey;
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'listen', 'listen.cli.js'), ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const lines: string[] = [];
  let stderr = '';
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const parsed = (line: string) => {
    try {
      return JSON.parse(line) as Record<string, any>;
    } catch {
      return undefined;
    }
  };
  const listen: ListenProcess = {
    process: child,
    lines,
    get json() {
      return lines.map(parsed).filter((entry): entry is Record<string, any> => entry !== undefined);
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitForLines: (count, keep = () => true, timeoutMs = 15_000) =>
      waitFor(
        () => {
          const kept = lines.filter(keep);
          return kept.length >= count && kept;
        },
        { timeoutMs, what: `${count} lines from listen (stdout: ${JSON.stringify(lines)}; stderr: ${stderr})` },
      ),
    async waitForReady(timeoutMs = 15_000) {
      await listen.waitForLines(1, (line) => line.startsWith('Ready!') || parsed(line)?.ready === true, timeoutMs);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return exited;
    },
  };
  return listen;
}
