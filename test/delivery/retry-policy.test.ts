import { parseRetryAfter, RETRY_AFTER_MAX_MS, RetryPolicy } from '../../src/delivery/retry-policy';

const now = new Date('2024-01-20T10:00:00.000Z');
const failed = (status: number | null, retryAfter: string | null = null) => ({ status, retryAfter, now });

describe('RetryPolicy', () => {
  it('waits the configured delays, one retry per delay, then gives up', () => {
    const policy = new RetryPolicy([30_000, 300_000, 1_800_000], () => 0.5);
    expect(policy.maxAttempts).toBe(4);
    expect([1, 2, 3, 4].map((attempt) => policy.delayAfter(attempt, failed(500)))).toEqual([30_000, 300_000, 1_800_000, null]);
    expect(new RetryPolicy([], () => 0.5).delayAfter(1, failed(500))).toBeNull();
  });

  it('moves each delay by at most ±10%', () => {
    expect(new RetryPolicy([1000], () => 0).delayAfter(1, failed(null))).toBe(900);
    expect(new RetryPolicy([1000], () => 0.999999).delayAfter(1, failed(null))).toBe(1100);
    const delays = Array.from({ length: 200 }, () => new RetryPolicy([1000]).delayAfter(1, failed(502))!);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(900);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1100);
    expect(new Set(delays).size).toBeGreaterThan(10);
  });

  it('honours Retry-After on 429 and 503 only, capped at one hour', () => {
    const policy = new RetryPolicy([50, 100], () => 0.5);
    expect(policy.delayAfter(1, failed(429, '3'))).toBe(3000);
    expect(policy.delayAfter(1, failed(503, '7200'))).toBe(RETRY_AFTER_MAX_MS);
    expect(policy.delayAfter(1, failed(500, '3'))).toBe(50);
    expect(policy.delayAfter(1, failed(503, 'soon'))).toBe(50);
    expect(policy.delayAfter(2, failed(503, '3'))).toBe(3000);
    expect(policy.delayAfter(3, failed(503, '3'))).toBeNull();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sat, 20 Jan 2024 10:01:30 GMT', now)).toBe(90_000);
    expect(parseRetryAfter('Sat, 20 Jan 2024 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('-5', now)).toBeNull();
    expect(parseRetryAfter('later', now)).toBeNull();
  });
});
