import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
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

/**
 * Compiles the app once for tests that run it as a child process (the CLI, crash tests), and only
 * when a source file is newer than the build.
 */
export function ensureBuilt(): void {
  const marker = join(ROOT, 'dist', 'src', 'main.js');
  const sources = Math.max(newestMtime(join(ROOT, 'src')), statSync(join(ROOT, 'ormconfig.ts')).mtimeMs);
  if (existsSync(marker) && statSync(marker).mtimeMs >= sources) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}
