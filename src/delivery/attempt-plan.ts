import { version } from '../../package.json';
import { EventType } from '../events/event-type';
import { DeliveryStatus } from './delivery-status';
import { RetryPolicy } from './retry-policy';
import { AttemptResult } from './sender';
import { signatureHeaders } from './signature';

/**
 * The two pure halves of an attempt, after Svix's `prepare_dispatch` and `handle_*_dispatch`: what
 * to send, and what the answer means. No socket, no database: unit-tested as they are, and shared by
 * everything that sends a webhook (the worker, and `listen` on a developer's machine).
 */

export const USER_AGENT = `DeskForge-Webhooks/${version}`;

/** What an attempt means for its webhook's health. */
export type WebhookEffect = 'succeeded' | 'failed' | 'gone' | 'none';

export interface DeliveryRequestInput {
  deliveryId: string;
  eventId: string;
  type: EventType;
  /** The stored body, sent byte for byte. */
  payload: string;
  secret: string;
  /** The secret before the last rotation while it is still honoured, else null. */
  previousSecret: string | null;
  now: Date;
}

/** The headers of one attempt: content type, user agent, DeskForge's and Standard Webhooks' headers. */
export function deliveryHeaders(input: DeliveryRequestInput): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-deskforge-event': input.type,
    'x-deskforge-delivery': input.deliveryId,
    ...signatureHeaders({
      eventId: input.eventId,
      timestampSeconds: Math.floor(input.now.getTime() / 1000),
      body: input.payload,
      secret: input.secret,
      previousSecret: input.previousSecret,
    }),
  };
}

/** Whether the previous secret still signs, `now`. */
export function previousSecretInForce(
  webhook: { previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now: Date,
): string | null {
  return webhook.previousSecretExpiresAt !== null && webhook.previousSecretExpiresAt > now ? webhook.previousSecret : null;
}

export interface AttemptDecision {
  /** PENDING means another attempt at `nextAttemptAt`. */
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  webhookEffect: WebhookEffect;
}

/**
 * What attempt `number` (1-based) leads to: a 2xx succeeds; 410 ends the delivery and disables the
 * webhook; anything else retries on the policy's schedule (or `Retry-After`) until it runs out.
 */
export function decideOutcome(
  number: number,
  result: Pick<AttemptResult, 'status' | 'retryAfter'>,
  retries: RetryPolicy,
  now: Date,
): AttemptDecision {
  const { status } = result;
  if (status !== null && status >= 200 && status < 300)
    return { status: DeliveryStatus.SUCCEEDED, nextAttemptAt: null, webhookEffect: 'succeeded' };
  if (status === 410) return { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'gone' };
  const delay = retries.delayAfter(number, { status, retryAfter: result.retryAfter, now });
  if (delay === null) return { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'failed' };
  return { status: DeliveryStatus.PENDING, nextAttemptAt: new Date(now.getTime() + delay), webhookEffect: 'none' };
}
