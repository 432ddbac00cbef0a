import { createHmac, randomBytes } from 'node:crypto';

/**
 * The webhook as the contract puts it on the wire (API.md §4), rebuilt here independently of the
 * service so that the bare sender is a true baseline: same body shape and size, same two signatures.
 */

/** A `prefix_` + 24 alphanumerics id, the length of the service's ids (not uniform; it needs not be). */
export function benchId(prefix: string): string {
  return `${prefix}_${randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24)}`;
}

/** A `build.succeeded` body of the contract's shape, compact JSON. */
export function sampleEventBody(eventId: string, createdAt: Date): string {
  return JSON.stringify({
    id: eventId,
    type: 'build.succeeded',
    createdAt: createdAt.toISOString(),
    data: {
      build: {
        id: 'build_3XcL9qTz0aV7mK2pR8sW4yNb',
        projectId: 'proj_7HkP2wQx9mL4vB8nC1zT6rYd',
        version: '1.0.0',
        platform: 'mac',
        arch: 'arm64',
        status: 'success',
        artifactUrl: 'https://cdn.example.com/app.dmg',
        duration: 0,
      },
      project: { id: 'proj_7HkP2wQx9mL4vB8nC1zT6rYd', name: 'Bench Desktop App' },
    },
  });
}

/** `X-DeskForge-Signature`: hex HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes. */
export function signHex(secret: string, body: string): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/** `webhook-signature` (Standard Webhooks): `v1,` + base64 HMAC of `id.timestamp.body`. */
export function signStandard(secret: string, webhookId: string, timestamp: number, body: string): string {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice('whsec_'.length), 'base64') : Buffer.from(secret, 'utf8');
  return `v1,${createHmac('sha256', key).update(`${webhookId}.${timestamp}.${body}`).digest('base64')}`;
}

/** Every header of one delivery attempt, signed both ways. */
export function deliveryHeaders(secret: string, eventId: string, deliveryId: string, body: string): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'user-agent': 'DeskForge-Webhooks/bench',
    'x-deskforge-event': 'build.succeeded',
    'x-deskforge-delivery': deliveryId,
    'x-deskforge-signature': signHex(secret, body),
    'webhook-id': eventId,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandard(secret, eventId, timestamp, body),
  };
}
