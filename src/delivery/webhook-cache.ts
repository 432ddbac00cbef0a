import { DataSource } from 'typeorm';
import { Webhook } from '../webhooks/webhook.entity';

/** What sending needs of a webhook. */
export interface WebhookTarget {
  id: string;
  url: URL;
  secret: string;
  previousSecret: string | null;
  previousSecretExpiresAt: Date | null;
  active: boolean;
  disabledReason: string | null;
}

/**
 * Webhooks by id, read once and kept until the bus says the webhook changed (`webhook` topic:
 * update, rotation, disabling, deletion). Caching the promise makes concurrent attempts share one read,
 * and an invalidation never lets a read that started before it back into the cache.
 */
export class WebhookCache {
  private readonly entries = new Map<string, Promise<WebhookTarget | null>>();

  constructor(private readonly reader: DataSource) {}

  /** The webhook, or null once it has been deleted. */
  get(id: string): Promise<WebhookTarget | null> {
    let entry = this.entries.get(id);
    if (!entry) {
      entry = this.load(id);
      this.entries.set(id, entry);
      entry.catch(() => {
        if (this.entries.get(id) === entry) this.entries.delete(id);
      });
    }
    return entry;
  }

  invalidate(id: string): void {
    this.entries.delete(id);
  }

  private async load(id: string): Promise<WebhookTarget | null> {
    const webhook = await this.reader.getRepository(Webhook).findOneBy({ id });
    if (!webhook) return null;
    return {
      id: webhook.id,
      url: new URL(webhook.url),
      secret: webhook.secret,
      previousSecret: webhook.previousSecret,
      previousSecretExpiresAt: webhook.previousSecretExpiresAt,
      active: webhook.active,
      disabledReason: webhook.disabledReason,
    };
  }
}
