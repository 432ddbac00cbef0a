import { readFileSync } from 'node:fs';

export interface OpenFilesLimit {
  soft: number;
  hard: number;
}

/** This process's open-files limit (`ulimit -n`), from /proc; Infinity where unlimited or unreadable. */
export function openFilesLimit(): OpenFilesLimit {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').split(/\s+/).slice(3, 5).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    if (Number.isFinite(soft) && Number.isFinite(hard)) return { soft, hard };
  } catch {
    // not Linux: leave the limit to the operator (the README says how)
  }
  return { soft: Infinity, hard: Infinity };
}

/**
 * An `sh -c` script that raises the soft open-files limit to `needed`, then execs `"$0" "$@"` (so the
 * pid stays the command's), or undefined when the current limit already suffices. An unprivileged
 * process may raise its soft limit up to the hard one; beyond that it throws with what to do.
 */
export function raiseOpenFilesScript(needed: number): string | undefined {
  const { soft, hard } = openFilesLimit();
  if (soft >= needed) return undefined;
  if (hard < needed) {
    throw new Error(`needs ${needed} open files but the hard limit is ${hard}: raise it (e.g. ulimit -Hn ${needed}) and rerun`);
  }
  return `ulimit -n ${needed} && exec "$0" "$@"`;
}
