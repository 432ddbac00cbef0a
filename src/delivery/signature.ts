import { createHmac } from 'node:crypto';
import { STANDARD_SECRET_PREFIX } from '../webhooks/webhook-secret';

/**
 * `X-DeskForge-Signature`: hex HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes, which
 * is exactly what the DeskForge page's `verifyWebhook` snippet computes.
 */
export function signPayload(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * The Standard Webhooks key of a secret: the base64-decoded bytes after `whsec_` for secrets of that
 * form (as every Standard Webhooks library reads them), else the secret's UTF-8 bytes.
 */
export function standardWebhooksKey(secret: string): Buffer {
  return secret.startsWith(STANDARD_SECRET_PREFIX)
    ? Buffer.from(secret.slice(STANDARD_SECRET_PREFIX.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

/** One `v1,<base64>` entry of `webhook-signature`: HMAC-SHA256 of `<id>.<timestamp>.<body>`. */
export function standardSignature(secret: string, messageId: string, timestampSeconds: number, body: string): string {
  const mac = createHmac('sha256', standardWebhooksKey(secret)).update(`${messageId}.${timestampSeconds}.${body}`);
  return `v1,${mac.digest('base64')}`;
}

export interface SigningInput {
  /** The event id: `webhook-id`, the same for every attempt and redelivery of the event. */
  eventId: string;
  /** When this attempt is signed, in whole unix seconds (`webhook-timestamp`). */
  timestampSeconds: number;
  body: string;
  secret: string;
  /** The secret before the last rotation while it is still honoured (24 hours), else null. */
  previousSecret: string | null;
}

/**
 * The three signature headers of one attempt. `webhook-signature` carries a second, space-separated
 * entry made with the previous secret during the rotation window; `X-DeskForge-Signature` always uses
 * the current secret.
 */
export function signatureHeaders(input: SigningInput): Record<string, string> {
  const { eventId, timestampSeconds, body, secret, previousSecret } = input;
  const signatures = [standardSignature(secret, eventId, timestampSeconds, body)];
  if (previousSecret) signatures.push(standardSignature(previousSecret, eventId, timestampSeconds, body));
  return {
    'x-deskforge-signature': signPayload(body, secret),
    'webhook-id': eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}
