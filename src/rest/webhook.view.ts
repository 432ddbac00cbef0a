import { Webhook } from '../webhooks/webhook.entity';

/**
 * A webhook as the REST API answers it: the DeskForge page's `{ id, url, events, active, createdAt }`
 * and the other fields GraphQL's `Webhook` shows, event names dotted. Never the secret.
 */
export function webhookView(webhook: Webhook) {
  return {
    id: webhook.id,
    url: webhook.url,
    events: webhook.events,
    active: webhook.active,
    description: webhook.description,
    disabledReason: webhook.disabledReason,
    consecutiveFailures: webhook.consecutiveFailures,
    createdAt: webhook.createdAt.toISOString(),
    updatedAt: webhook.updatedAt.toISOString(),
  };
}

export type WebhookView = ReturnType<typeof webhookView>;
