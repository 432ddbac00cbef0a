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
    const [soft, hard] = (line ?? '')
      .split(/\s+/)
      .slice(3, 5)
      .map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    if (Number.isFinite(soft) && Number.isFinite(hard)) return { soft, hard };
  } catch {
    // not Linux: leave the limit to the operator (the README says how)
  }
  return { soft: Infinity, hard: Infinity };
}

/**
 * Throws, saying what to do, when a process may not open `needed` files (sockets). Node raises its
 * own soft limit to the hard one at start-up, so the hard limit is the one that counts.
 */
export function requireOpenFiles(needed: number): void {
  const { hard } = openFilesLimit();
  if (hard < needed) {
    throw new Error(`needs ${needed} open files but the limit is ${hard}: raise it (ulimit -Hn ${needed}, as root) and rerun`);
  }
}
