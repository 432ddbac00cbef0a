import { ChildProcess, fork } from 'node:child_process';
import { requireOpenFiles } from './open-files';
import { processScript } from './paths';
import { WorkerReply } from './worker';

const live = new Set<ChildProcess>();

/** Registers a child so that `killAllChildren` reaches it. */
export function trackChild(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** Kills every child the bench started that is still running (on exit, signals and fatal errors). */
export function killAllChildren(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** Waits for `child` to exit: SIGTERM first, SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

export interface WorkerOptions {
  /** The process exits by itself after this long, whatever happens to the parent. */
  lifetimeMs: number;
  /** Open files (sockets) the process needs; starting fails early when the limit is lower. */
  openFiles?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** A bench process (`bench/processes/<name>.ts`) that answers requests over IPC. */
export class Worker {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitReason: string | undefined;

  private constructor(
    readonly name: string,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: WorkerReply) => {
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${name}: ${message.error}`));
    });
    child.once('exit', (code, signal) => {
      this.exitReason = `${name} exited (${signal ?? `code ${code}`})`;
      for (const waiter of this.pending.values()) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(this.exitReason));
      }
      this.pending.clear();
    });
  }

  /** Forks the compiled process and waits until it listens for requests. */
  static async start(name: string, options: WorkerOptions): Promise<Worker> {
    if (options.openFiles) requireOpenFiles(options.openFiles);
    const child = fork(processScript(name), [], {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_LIFETIME_MS: String(options.lifetimeMs) },
    });
    trackChild(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 15 s`)), 15_000);
      child.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited while starting (${signal ?? `code ${code}`})`));
      });
    });
    return new Worker(name, child);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** Sends `cmd` and resolves with the process's answer; rejects on its error, its exit or the timeout. */
  request<T>(cmd: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
    if (this.exitReason) return Promise.reject(new Error(this.exitReason));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.name}: no answer to ${cmd} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.child.send({ id, cmd, args });
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child);
  }
}
