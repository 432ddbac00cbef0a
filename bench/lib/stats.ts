/** Median of the finite numbers given; undefined when there are none. */
export function median(values: Array<number | undefined>): number | undefined {
  const sorted = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `[bucket, count]` pairs, the wire form of a sparse counter. */
export type SparseCounts = Array<[number, number]>;

/**
 * Latency histogram that processes can merge: 0.1 ms buckets below 100 ms, 1 ms below 10 s, 10 ms
 * above. Sparse, so it crosses IPC as a short array however many samples it holds.
 */
export class LatencyHistogram {
  private readonly counts = new Map<number, number>();
  private total = 0;

  static from(serialized: SparseCounts): LatencyHistogram {
    const histogram = new LatencyHistogram();
    histogram.merge(serialized);
    return histogram;
  }

  get count(): number {
    return this.total;
  }

  record(ms: number): void {
    const bucket = bucketOf(Math.max(0, ms));
    this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + 1);
    this.total += 1;
  }

  merge(serialized: SparseCounts): void {
    for (const [bucket, count] of serialized) {
      this.counts.set(bucket, (this.counts.get(bucket) ?? 0) + count);
      this.total += count;
    }
  }

  /** The value below which `p` percent of the samples fall (bucket midpoint); undefined when empty. */
  percentile(p: number): number | undefined {
    if (this.total === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (const bucket of [...this.counts.keys()].sort((a, b) => a - b)) {
      seen += this.counts.get(bucket)!;
      if (seen >= rank) return midpointOf(bucket);
    }
    return undefined;
  }

  toJSON(): SparseCounts {
    return [...this.counts.entries()];
  }
}

const FINE_LIMIT_MS = 100;
const MEDIUM_LIMIT_MS = 10_000;
const FINE_BUCKETS = FINE_LIMIT_MS * 10;
const MEDIUM_BUCKETS = MEDIUM_LIMIT_MS - FINE_LIMIT_MS;

function bucketOf(ms: number): number {
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 10);
  if (ms < MEDIUM_LIMIT_MS) return FINE_BUCKETS + Math.floor(ms - FINE_LIMIT_MS);
  return FINE_BUCKETS + MEDIUM_BUCKETS + Math.floor((ms - MEDIUM_LIMIT_MS) / 10);
}

function midpointOf(bucket: number): number {
  if (bucket < FINE_BUCKETS) return (bucket + 0.5) / 10;
  if (bucket < FINE_BUCKETS + MEDIUM_BUCKETS) return FINE_LIMIT_MS + (bucket - FINE_BUCKETS) + 0.5;
  return MEDIUM_LIMIT_MS + (bucket - FINE_BUCKETS - MEDIUM_BUCKETS) * 10 + 5;
}

/** Width of one time bucket of `ArrivalCounter`. */
export const ARRIVAL_BUCKET_MS = 100;

/**
 * Counts arrivals per 100 ms of wall-clock time, so the parent can take any window after the fact
 * without depending on when its IPC messages happen to be read by a busy process.
 */
export class ArrivalCounter {
  private readonly buckets = new Map<number, number>();
  total = 0;

  add(now = Date.now()): void {
    const bucket = Math.floor(now / ARRIVAL_BUCKET_MS);
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + 1);
    this.total += 1;
  }

  reset(): void {
    this.buckets.clear();
    this.total = 0;
  }

  toJSON(): SparseCounts {
    return [...this.buckets.entries()];
  }
}

/** Arrivals with wall-clock time in [from, to), summed over the counters of several processes. */
export function arrivalsBetween(counters: SparseCounts[], from: number, to: number): number {
  const first = Math.ceil(from / ARRIVAL_BUCKET_MS);
  const last = Math.floor(to / ARRIVAL_BUCKET_MS);
  let sum = 0;
  for (const counter of counters) {
    for (const [bucket, count] of counter) if (bucket >= first && bucket < last) sum += count;
  }
  return sum;
}

/** The length in ms of the window `arrivalsBetween` really counts (whole buckets only). */
export function countedWindowMs(from: number, to: number): number {
  return (Math.floor(to / ARRIVAL_BUCKET_MS) - Math.ceil(from / ARRIVAL_BUCKET_MS)) * ARRIVAL_BUCKET_MS;
}
