/** `Retry-After` is honoured up to this long, so a receiver cannot park a delivery for days. */
export const RETRY_AFTER_MAX_MS = 60 * 60 * 1000;
/** Each scheduled delay is moved by up to this fraction either way, so retries of a burst spread out. */
export const JITTER = 0.1;

/** Statuses whose `Retry-After` header is honoured. */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

/**
 * When a failed attempt is tried again: the configured delays (their count is the retry count) with
 * ±10% jitter, or what the receiver asked for in `Retry-After` on 429/503, capped at one hour.
 */
export class RetryPolicy {
  /**
   * @param delaysMs delays before retries 1..n (`WEBHOOK_RETRY_DELAYS_MS`).
   * @param random a number in [0, 1); injectable so tests get exact delays.
   */
  constructor(
    private readonly delaysMs: readonly number[],
    private readonly random: () => number = Math.random,
  ) {}

  /** Attempts a delivery gets at most: the first one plus one per configured delay. */
  get maxAttempts(): number {
    return this.delaysMs.length + 1;
  }

  /**
   * Milliseconds to wait after failed attempt number `attempt` (1-based), or null when it was the
   * last one. `retryAfter` is the response's header, used only for 429 and 503.
   */
  delayAfter(attempt: number, response: { status: number | null; retryAfter: string | null; now: Date }): number | null {
    if (attempt >= this.maxAttempts) return null;
    if (response.status !== null && RETRY_AFTER_STATUSES.has(response.status) && response.retryAfter) {
      const asked = parseRetryAfter(response.retryAfter, response.now);
      if (asked !== null) return Math.min(asked, RETRY_AFTER_MAX_MS);
    }
    const base = this.delaysMs[attempt - 1];
    return Math.max(0, Math.round(base * (1 + (this.random() * 2 - 1) * JITTER)));
  }
}

/**
 * A `Retry-After` value in milliseconds from `now`: delay-seconds (`120`) or an HTTP date. Null when
 * it is neither; a date in the past means at once (0).
 */
export function parseRetryAfter(value: string, now: Date): number | null {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP date names its day and month; anything else Date.parse might accept is not one.
  if (!/[a-z]{3}/i.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - now.getTime());
}
