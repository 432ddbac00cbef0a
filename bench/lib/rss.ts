import { readFileSync } from 'node:fs';
import { delay } from './pacer';
import { median } from './stats';

export const MIB = 1024 * 1024;

/** Resident set size of `pid` in bytes, from /proc/<pid>/status (VmRSS); undefined when unreadable. */
export function readRssBytes(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS on a timer; `stop()` returns the peak and the last sample. */
export class RssSampler {
  private peak = 0;
  private last: number | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    intervalMs = 200,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
  }

  private sample(): void {
    const rss = readRssBytes(this.pid);
    if (rss === undefined) return;
    this.last = rss;
    this.peak = Math.max(this.peak, rss);
  }

  stop(): { peakBytes: number | undefined; lastBytes: number | undefined } {
    clearInterval(this.timer);
    this.sample();
    return { peakBytes: this.peak || undefined, lastBytes: this.last };
  }
}

/** Median of five samples 200 ms apart, so one GC moment does not decide a figure. */
export async function steadyRss(pid: number): Promise<number | undefined> {
  const samples: Array<number | undefined> = [];
  for (let i = 0; i < 5; i++) {
    samples.push(readRssBytes(pid));
    await delay(200);
  }
  return median(samples);
}
