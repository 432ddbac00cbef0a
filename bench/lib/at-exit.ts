/**
 * Synchronous clean-ups for when the bench process exits, however it exits (the end of `main`, a
 * failure, Ctrl-C: run.ts calls `runExitHooks` from its `exit` handler, after killing its children).
 * Each hook runs once; `atExit` returns a function that unregisters it (call it once the thing was
 * cleaned up the ordinary way).
 */
const hooks = new Set<() => void>();

export function atExit(hook: () => void): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

export function runExitHooks(): void {
  for (const hook of [...hooks].reverse()) {
    hooks.delete(hook);
    try {
      hook();
    } catch {
      // best effort: the process is going away
    }
  }
}
