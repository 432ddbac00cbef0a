/**
 * Open-loop pacing: calls `tick(i)` `ratePerSecond` times a second for `durationMs`, never waiting
 * for earlier ticks' work, and catching up after a late timer so the long-run rate holds.
 * Resolves with the number of ticks once the last one has been issued.
 */
export function pace(ratePerSecond: number, durationMs: number, tick: (index: number) => void): Promise<number> {
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const start = performance.now();
  let issued = 0;
  return new Promise((resolve) => {
    const step = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * ratePerSecond) / 1000) + 1);
      while (issued < due) tick(issued++);
      if (issued >= total) {
        resolve(issued);
        return;
      }
      const nextAt = start + (issued * 1000) / ratePerSecond;
      setTimeout(step, Math.max(0, nextAt - performance.now()));
    };
    step();
  });
}

/** Resolves after `ms`; for pacing load and sampling, never for synchronization. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `intervalMs` until it returns a value other than undefined, or throws
 * `message` after `timeoutMs`.
 */
export async function pollUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  message: string,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new Error(message);
    await delay(intervalMs);
  }
}
