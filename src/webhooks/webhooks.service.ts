import { Clock } from '../clock';
import { WebhookConfig } from '../config';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { DeliveryStatus } from '../delivery/delivery-status';
import { Delivery } from '../delivery/delivery.entity';
import { InvalidInput, NotFound } from '../errors';
import { EventBus } from '../events/event-bus';
import { EventType } from '../events/event-type';
import { newId } from '../ids';
import { checkWebhookUrl, Resolver, UrlPolicyError } from './url-policy';
import { Webhook } from './webhook.entity';
import { webhookSecretOrGenerate } from './webhook-secret';

export const DESCRIPTION_MAX = 1000;
/** Receivers may verify with the previous secret for this long after a rotation. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 60 * 60 * 1000;

export interface WebhookFields {
  url?: string | null;
  events?: EventType[] | null;
  description?: string | null;
  active?: boolean | null;
}

export interface CreateWebhookFields extends WebhookFields {
  url: string;
  events: EventType[];
  secret?: string | null;
}

export class WebhooksService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: Pick<WebhookConfig, 'allowPrivateUrls'>,
    private readonly resolve: Resolver,
    private readonly bus: EventBus,
  ) {}

  private repository() {
    return this.db.reader.getRepository(Webhook);
  }

  async create(accountId: string, input: CreateWebhookFields): Promise<{ webhook: Webhook; secret: string }> {
    const url = await this.checkUrl(input.url);
    const events = checkEvents(input.events);
    const description = checkDescription(input.description);
    const secret = webhookSecretOrGenerate(input.secret);
    const now = this.clock.now();
    const webhook = this.repository().create({
      id: newId('wh', now.getTime()),
      accountId,
      url,
      events,
      active: input.active ?? true,
      description,
      secret,
      previousSecret: null,
      previousSecretExpiresAt: null,
      disabledReason: null,
      consecutiveFailures: 0,
      createdAt: now,
      updatedAt: now,
    });
    await this.db.writes.write(({ manager }) => manager.insert(Webhook, webhook));
    return { webhook, secret };
  }

  /** Changes the given fields; `active: true` also clears `disabledReason` and `consecutiveFailures`. */
  async update(accountId: string, id: string, input: WebhookFields): Promise<Webhook> {
    const changes: Partial<Webhook> = {};
    if (input.url !== undefined) changes.url = await this.checkUrl(input.url ?? '');
    if (input.events !== undefined) changes.events = checkEvents(input.events);
    if (input.description !== undefined) changes.description = checkDescription(input.description);
    if (input.active !== undefined && input.active !== null) {
      changes.active = input.active;
      if (input.active) {
        changes.disabledReason = null;
        changes.consecutiveFailures = 0;
      }
    }
    return this.db.writes.write(async ({ manager, afterCommit }) => {
      const webhook = await manager.findOneBy(Webhook, { id, accountId });
      if (!webhook) throw new NotFound('Webhook');
      Object.assign(webhook, changes, { updatedAt: this.clock.now() });
      await manager.save(Webhook, webhook);
      afterCommit(() => this.bus.publish('webhook', { id, accountId }));
      return webhook;
    });
  }

  /** Deletes the webhook; its pending deliveries end as FAILED, past deliveries stay as history. */
  async delete(accountId: string, id: string): Promise<void> {
    await this.db.writes.write(async ({ manager, afterCommit }) => {
      const result = await manager.delete(Webhook, { id, accountId });
      if (!result.affected) throw new NotFound('Webhook');
      afterCommit(() => this.bus.publish('webhook', { id, accountId }));
      await manager.update(
        Delivery,
        { webhookId: id, status: DeliveryStatus.PENDING },
        { status: DeliveryStatus.FAILED, nextAttemptAt: null, completedAt: this.clock.now() },
      );
    });
  }

  /**
   * Replaces the secret (generated when not given). The old one keeps signing a second
   * `webhook-signature` entry for 24 hours, so receivers can switch without dropping events.
   */
  async rotateSecret(accountId: string, id: string, secret?: string | null): Promise<{ webhook: Webhook; secret: string }> {
    const next = webhookSecretOrGenerate(secret);
    return this.db.writes.write(async ({ manager, afterCommit }) => {
      const webhook = await manager.findOneBy(Webhook, { id, accountId });
      if (!webhook) throw new NotFound('Webhook');
      afterCommit(() => this.bus.publish('webhook', { id, accountId }));
      const now = this.clock.now();
      webhook.previousSecret = webhook.secret;
      webhook.previousSecretExpiresAt = new Date(now.getTime() + PREVIOUS_SECRET_TTL_MS);
      webhook.secret = next;
      webhook.updatedAt = now;
      await manager.save(Webhook, webhook);
      return { webhook, secret: next };
    });
  }

  get(accountId: string, id: string): Promise<Webhook | null> {
    return this.repository().findOneBy({ id, accountId });
  }

  /** A page of the account's webhooks; with `select`, nodes carry only those properties (see `paginate`). */
  list(accountId: string, args: PageArgs & { active?: boolean | null }, select?: ReadonlySet<string>): Promise<Page<Webhook>> {
    return paginate(this.db.reader, Webhook, { accountId, active: args.active }, args, 'createdAt', select);
  }

  private async checkUrl(url: string): Promise<string> {
    try {
      return await checkWebhookUrl(url.trim(), this.config.allowPrivateUrls, this.resolve);
    } catch (error) {
      if (error instanceof UrlPolicyError) throw new InvalidInput('url', `"url" ${error.message}`);
      throw error;
    }
  }
}

function checkEvents(events: EventType[] | null | undefined): EventType[] {
  const unique = [...new Set(events ?? [])];
  if (unique.length === 0) throw new InvalidInput('events', '"events" must name at least one event type');
  return unique;
}

function checkDescription(description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  if (description.length > DESCRIPTION_MAX) {
    throw new InvalidInput('description', `"description" must be at most ${DESCRIPTION_MAX} characters`);
  }
  return description;
}
