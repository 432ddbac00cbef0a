import { createHmac } from 'node:crypto';
import { version } from '../../package.json';
import {
  AttemptDecision,
  decideOutcome,
  DeliveryRequestInput,
  deliveryHeaders,
  previousSecretInForce,
  USER_AGENT,
} from '../../src/delivery/attempt-plan';
import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { RETRY_AFTER_MAX_MS, RetryPolicy } from '../../src/delivery/retry-policy';
import { EventType } from '../../src/events/event-type';
import { PREVIOUS_SECRET_TTL_MS } from '../../src/webhooks/webhooks.service';

/**
 * The two pure halves of an attempt, checked against API.md §4 (the webhook on the wire) with no
 * socket and no database: the expected signatures are computed here from the contract's words, not
 * through the code under test.
 */

const body =
  '{"id":"evt_1","type":"project.created","createdAt":"2024-01-20T10:15:00.000Z","data":{"project":{"id":"proj_1","name":"My Desktop App"}}}';
/** With milliseconds, so `webhook-timestamp` must round down to whole seconds. */
const now = new Date('2024-01-20T10:15:00.999Z');
const nowSeconds = 1705745700;
const HOUR = 60 * 60 * 1000;

const request = (overrides: Partial<DeliveryRequestInput> = {}): DeliveryRequestInput => ({
  deliveryId: 'dlv_1',
  eventId: 'evt_1',
  type: EventType.PROJECT_CREATED,
  payload: body,
  secret: 'current-secret-0123456789',
  previousSecret: null,
  now,
  ...overrides,
});

/** `v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>">` keyed with `key`. */
const v1 = (key: Buffer | string, id: string, timestamp: number, payload: string) =>
  `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${payload}`).digest('base64')}`;

describe('deliveryHeaders', () => {
  it('carries the content type, user agent and DeskForge headers of the contract', () => {
    const headers = deliveryHeaders(request({ type: EventType.BUILD_SUCCEEDED, deliveryId: 'dlv_42' }));
    expect(USER_AGENT).toBe(`DeskForge-Webhooks/${version}`);
    expect(headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': `DeskForge-Webhooks/${version}`,
      'x-deskforge-event': 'build.succeeded',
      'x-deskforge-delivery': 'dlv_42',
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(nowSeconds),
    });
    expect(Object.keys(headers).sort()).toEqual([
      'content-type',
      'user-agent',
      'webhook-id',
      'webhook-signature',
      'webhook-timestamp',
      'x-deskforge-delivery',
      'x-deskforge-event',
      'x-deskforge-signature',
    ]);
  });

  it('signs X-DeskForge-Signature as the hex HMAC-SHA256 of the raw body, keyed with the secret as UTF-8', () => {
    const secret = 'sécret-ünïcode-0123456789';
    const headers = deliveryHeaders(request({ secret }));
    expect(headers['x-deskforge-signature']).toBe(createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex'));
    expect(headers['x-deskforge-signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs the stored body byte for byte (no re-serialization)', () => {
    const spaced = '{ "id": "evt_1", "type": "project.created" }';
    const headers = deliveryHeaders(request({ payload: spaced }));
    expect(headers['x-deskforge-signature']).toBe(createHmac('sha256', 'current-secret-0123456789').update(spaced).digest('hex'));
    expect(headers['webhook-signature']).toBe(v1('current-secret-0123456789', 'evt_1', nowSeconds, spaced));
  });

  it('signs webhook-signature over "<webhook-id>.<webhook-timestamp>.<body>" with the UTF-8 bytes of a plain secret', () => {
    const headers = deliveryHeaders(request());
    expect(headers['webhook-signature']).toBe(v1(Buffer.from('current-secret-0123456789', 'utf8'), 'evt_1', nowSeconds, body));
  });

  it('keys webhook-signature with the base64-decoded bytes after whsec_, and X-DeskForge-Signature with the whole secret', () => {
    const key = Buffer.alloc(32, 7);
    const secret = `whsec_${key.toString('base64')}`;
    const headers = deliveryHeaders(request({ secret }));
    expect(headers['webhook-signature']).toBe(v1(key, 'evt_1', nowSeconds, body));
    expect(headers['x-deskforge-signature']).toBe(createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex'));
  });

  it('uses the event id for webhook-id, so every delivery and retry of an event shares it', () => {
    const first = deliveryHeaders(request({ deliveryId: 'dlv_a' }));
    const second = deliveryHeaders(request({ deliveryId: 'dlv_b', now: new Date(now.getTime() + 30_000) }));
    expect(first['webhook-id']).toBe('evt_1');
    expect(second['webhook-id']).toBe('evt_1');
    expect(second['webhook-timestamp']).toBe(String(nowSeconds + 30));
  });

  it('adds a second, space-separated v1 entry made with the previous secret; X-DeskForge-Signature stays on the current one', () => {
    const headers = deliveryHeaders(request({ secret: 'new-secret-0123456789', previousSecret: 'old-secret-0123456789' }));
    expect(headers['webhook-signature']).toBe(
      `${v1('new-secret-0123456789', 'evt_1', nowSeconds, body)} ${v1('old-secret-0123456789', 'evt_1', nowSeconds, body)}`,
    );
    expect(headers['x-deskforge-signature']).toBe(createHmac('sha256', 'new-secret-0123456789').update(body).digest('hex'));
  });
});

describe('previousSecretInForce and the rotation window', () => {
  /** A webhook as `rotateWebhookSecret` leaves it at `rotatedAt`. */
  const rotated = (rotatedAt: Date) => ({
    secret: 'new-secret-0123456789',
    previousSecret: 'old-secret-0123456789',
    previousSecretExpiresAt: new Date(rotatedAt.getTime() + PREVIOUS_SECRET_TTL_MS),
  });
  const signaturesAt = (webhook: ReturnType<typeof rotated>, at: Date) =>
    deliveryHeaders(request({ secret: webhook.secret, previousSecret: previousSecretInForce(webhook, at), now: at }))[
      'webhook-signature'
    ].split(' ');

  it('keeps the previous secret for 24 hours', () => {
    expect(PREVIOUS_SECRET_TTL_MS).toBe(24 * HOUR);
  });

  it('gives no previous secret to a webhook never rotated: one entry', () => {
    const webhook = { secret: 'only-secret-0123456789', previousSecret: null, previousSecretExpiresAt: null };
    expect(previousSecretInForce(webhook, now)).toBeNull();
    const headers = deliveryHeaders(request({ secret: webhook.secret, previousSecret: previousSecretInForce(webhook, now) }));
    expect(headers['webhook-signature'].split(' ')).toEqual([v1('only-secret-0123456789', 'evt_1', nowSeconds, body)]);
  });

  it('signs with both secrets from the rotation until 24 hours after it, then with the new one only', () => {
    const webhook = rotated(now);
    const clock = { at: now, now: () => clock.at };
    const entriesAfter = (ms: number) => {
      clock.at = new Date(now.getTime() + ms);
      return signaturesAt(webhook, clock.now());
    };

    expect(entriesAfter(0)).toHaveLength(2);
    expect(entriesAfter(HOUR)).toHaveLength(2);
    const lastMoment = entriesAfter(24 * HOUR - 1);
    expect(lastMoment).toHaveLength(2);
    const at = Math.floor(clock.now().getTime() / 1000);
    expect(lastMoment[1]).toBe(v1('old-secret-0123456789', 'evt_1', at, body));

    expect(entriesAfter(24 * HOUR)).toEqual([v1('new-secret-0123456789', 'evt_1', nowSeconds + 24 * 3600, body)]);
    expect(entriesAfter(25 * HOUR)).toHaveLength(1);
  });

  it('returns the previous secret only while its expiry is in the future', () => {
    const webhook = rotated(now);
    const expiry = webhook.previousSecretExpiresAt;
    expect(previousSecretInForce(webhook, new Date(expiry.getTime() - 1))).toBe('old-secret-0123456789');
    expect(previousSecretInForce(webhook, expiry)).toBeNull();
    expect(previousSecretInForce({ previousSecret: 'old', previousSecretExpiresAt: null }, now)).toBeNull();
  });
});

describe('decideOutcome', () => {
  /** Three retries (four attempts), jitter pinned to none. */
  const retries = new RetryPolicy([30_000, 300_000, 1_800_000], () => 0.5);
  const answered = (status: number | null, retryAfter: string | null = null) => ({ status, retryAfter });
  const retryAfterMs = (ms: number): AttemptDecision => ({
    status: DeliveryStatus.PENDING,
    nextAttemptAt: new Date(now.getTime() + ms),
    webhookEffect: 'none',
  });
  const succeeded: AttemptDecision = { status: DeliveryStatus.SUCCEEDED, nextAttemptAt: null, webhookEffect: 'succeeded' };
  const gone: AttemptDecision = { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'gone' };
  const failed: AttemptDecision = { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'failed' };

  it.each([200, 201, 202, 204, 299])('a %i succeeds, on any attempt', (status) => {
    expect(decideOutcome(1, answered(status), retries, now)).toEqual(succeeded);
    expect(decideOutcome(4, answered(status), retries, now)).toEqual(succeeded);
  });

  it.each([100, 199, 300, 301, 302, 304, 307, 400, 401, 404, 409, 422, 500, 502, 504])(
    'a %i fails the attempt and is retried after the first delay',
    (status) => {
      expect(decideOutcome(1, answered(status), retries, now)).toEqual(retryAfterMs(30_000));
    },
  );

  it('a 410 Gone ends the delivery FAILED at once and disables the webhook, with retries left and whatever Retry-After says', () => {
    expect(decideOutcome(1, answered(410), retries, now)).toEqual(gone);
    expect(decideOutcome(1, answered(410, '5'), retries, now)).toEqual(gone);
    expect(decideOutcome(4, answered(410), retries, now)).toEqual(gone);
  });

  it('no response (a timeout, a connection or TLS error, a refused address) is retried on the schedule', () => {
    expect(decideOutcome(1, answered(null), retries, now)).toEqual(retryAfterMs(30_000));
    expect(decideOutcome(2, answered(null), retries, now)).toEqual(retryAfterMs(300_000));
    expect(decideOutcome(3, answered(null), retries, now)).toEqual(retryAfterMs(1_800_000));
  });

  it('the last retry failing ends the delivery FAILED', () => {
    expect(decideOutcome(4, answered(500), retries, now)).toEqual(failed);
    expect(decideOutcome(4, answered(null), retries, now)).toEqual(failed);
    expect(decideOutcome(4, answered(429, '1'), retries, now)).toEqual(failed);
    expect(decideOutcome(1, answered(500), new RetryPolicy([], () => 0.5), now)).toEqual(failed);
  });

  it.each([429, 503])('a %i with Retry-After in seconds is retried when the receiver asked', (status) => {
    expect(decideOutcome(1, answered(status, '120'), retries, now)).toEqual(retryAfterMs(120_000));
    expect(decideOutcome(3, answered(status, '0'), retries, now)).toEqual(retryAfterMs(0));
  });

  it.each([429, 503])('a %i with Retry-After as an HTTP date is retried at that date', (status) => {
    expect(decideOutcome(1, answered(status, 'Sat, 20 Jan 2024 10:20:00 GMT'), retries, now)).toEqual(retryAfterMs(5 * 60_000 - 999));
    expect(decideOutcome(1, answered(status, 'Sat, 20 Jan 2024 09:00:00 GMT'), retries, now)).toEqual(retryAfterMs(0));
  });

  it.each([429, 503])('a %i honours Retry-After up to one hour', (status) => {
    expect(RETRY_AFTER_MAX_MS).toBe(HOUR);
    expect(decideOutcome(1, answered(status, '3600'), retries, now)).toEqual(retryAfterMs(HOUR));
    expect(decideOutcome(1, answered(status, '86400'), retries, now)).toEqual(retryAfterMs(HOUR));
    expect(decideOutcome(1, answered(status, 'Sun, 21 Jan 2024 10:15:00 GMT'), retries, now)).toEqual(retryAfterMs(HOUR));
  });

  it.each([429, 503])('a %i without a usable Retry-After falls back to the schedule', (status) => {
    expect(decideOutcome(1, answered(status), retries, now)).toEqual(retryAfterMs(30_000));
    expect(decideOutcome(1, answered(status, 'soon'), retries, now)).toEqual(retryAfterMs(30_000));
  });

  it('ignores Retry-After on other statuses', () => {
    expect(decideOutcome(1, answered(500, '5'), retries, now)).toEqual(retryAfterMs(30_000));
    expect(decideOutcome(1, answered(502, '5'), retries, now)).toEqual(retryAfterMs(30_000));
  });

  it('applies the ±10% jitter to scheduled delays, not to Retry-After', () => {
    const low = new RetryPolicy([30_000], () => 0);
    expect(decideOutcome(1, answered(500), low, now)).toEqual(retryAfterMs(27_000));
    expect(decideOutcome(1, answered(503, '10'), low, now)).toEqual(retryAfterMs(10_000));
  });
});
