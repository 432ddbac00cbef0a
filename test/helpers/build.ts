import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  const marker = join(ROOT, 'dist', 'src', 'main.js');
  const sources = Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'ormconfig.ts')).mtimeMs);
  return existsSync(marker) && statSync(marker).mtimeMs >= sources;
}

/** Held while one test process compiles, so parallel test files neither compile at once nor run a half-written build. */
const LOCK = join(ROOT, '.build-lock');
/** A lock older than this was left by a process that died while compiling. */
const STALE_LOCK_MS = 120_000;

function lockBuild(): void {
  const deadline = Date.now() + 2 * STALE_LOCK_MS;
  for (;;) {
    try {
      mkdirSync(LOCK);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const held = statSync(LOCK, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > STALE_LOCK_MS) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${LOCK} is held for too long`, { cause: error });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

/**
 * Compiles the app once for tests that run it as a child process (the CLI, crash tests), and only
 * when a source file is newer than the build. `npm test` builds first, so this matters when single
 * test files run on their own.
 */
export function ensureBuilt(): void {
  if (isFresh()) return;
  lockBuild();
  try {
    if (isFresh()) return;
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
