import { In } from 'typeorm';
import { Account } from '../accounts/account.entity';
import { Clock } from '../clock';
import { LimitsConfig, WebhookConfig } from '../config';
import { Database } from '../db/database';
import { MAX_PAGE_SIZE, Page, PageArgs, paginate } from '../db/pagination';
import { lockRowForWrite } from '../db/row-lock';
import { failPendingDeliveriesOf } from '../delivery/delivery.queries';
import { Conflict, InvalidInput, NotFound } from '../errors';
import { ChangeLog } from '../feed/change-log';
import { Metrics } from '../metrics';
import { EventType, foldEventTypes } from '../events/event-type';
import { clientId, newId } from '../ids';
import { userText } from '../user-text';
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

/** The settings the service's rules read. */
export type WebhookRules = Pick<WebhookConfig, 'allowPrivateUrls'> & Pick<LimitsConfig, 'webhooksPerAccount'>;

/** The DeskForge page's answer to a delete, the same through every API. */
export interface WebhookDeletion {
  id: string;
  deleted: true;
  message: string;
}

export class WebhooksService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly config: WebhookRules,
    private readonly resolve: Resolver,
    private readonly changes: ChangeLog,
    /** Counts the pending deliveries a deletion fails; absent where nothing is measured. */
    private readonly metrics?: Metrics,
  ) {}

  private repository() {
    return this.db.reader.getRepository(Webhook);
  }

  /** The account's webhooks with these ids, by id. */
  async getMany(accountId: string, ids: readonly string[]): Promise<Map<string, Webhook>> {
    const webhooks = await this.repository().findBy({ id: In([...ids]), accountId });
    return new Map(webhooks.map((webhook) => [webhook.id, webhook]));
  }

  async create(accountId: string, input: CreateWebhookFields): Promise<{ webhook: Webhook; secret: string }> {
    const url = await this.checkUrl(input.url);
    const events = checkEvents(input.events);
    const description = checkDescription(input.description);
    const secret = webhookSecretOrGenerate(userText(input.secret));
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
    await this.db.writes.write(async ({ manager }) => {
      // Counted in the transaction that inserts, with the account locked against the creates of
      // other processes (on PostgreSQL; SQLite's writes are one at a time anyway), so concurrent
      // creates never pass the cap together.
      await lockRowForWrite(manager, Account, accountId);
      const held = await manager.countBy(Webhook, { accountId });
      if (held >= this.config.webhooksPerAccount) {
        throw new Conflict(`An account holds at most ${this.config.webhooksPerAccount} webhooks: delete one before creating another`);
      }
      await manager.insert(Webhook, webhook);
    });
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
    return this.db.writes.write(async (tx) => {
      const webhook = await tx.manager.findOneBy(Webhook, { id: clientId(id), accountId });
      if (!webhook) throw new NotFound('Webhook');
      Object.assign(webhook, changes, { updatedAt: this.clock.now() });
      await tx.manager.save(Webhook, webhook);
      await this.changes.record(tx, 'webhook', { id, accountId });
      return webhook;
    });
  }

  /**
   * Deletes the webhook; its pending deliveries end as FAILED (each announced to `deliveryUpdated`
   * and counted as failed), past deliveries stay as history.
   */
  async delete(accountId: string, id: string): Promise<WebhookDeletion> {
    const failed = await this.db.writes.write(async (tx) => {
      const result = await tx.manager.delete(Webhook, { id: clientId(id), accountId });
      if (!result.affected) throw new NotFound('Webhook');
      const ended = await failPendingDeliveriesOf(tx.manager, id, this.clock.now());
      await this.changes.recordAll(tx, [
        { topic: 'webhook', message: { id, accountId } },
        ...ended.map((delivery) => ({ topic: 'delivery' as const, message: delivery })),
      ]);
      return ended.length;
    });
    if (failed > 0) this.metrics?.deliveries.inc({ outcome: 'failed' }, failed);
    return { id, deleted: true, message: 'Webhook deleted successfully' };
  }

  /**
   * Replaces the secret (generated when not given). The old one keeps signing a second
   * `webhook-signature` entry for 24 hours, so receivers can switch without dropping events.
   */
  async rotateSecret(accountId: string, id: string, secret?: string | null): Promise<{ webhook: Webhook; secret: string }> {
    const next = webhookSecretOrGenerate(userText(secret));
    return this.db.writes.write(async (tx) => {
      const { manager } = tx;
      const webhook = await manager.findOneBy(Webhook, { id: clientId(id), accountId });
      if (!webhook) throw new NotFound('Webhook');
      await this.changes.record(tx, 'webhook', { id, accountId });
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
    return this.repository().findOneBy({ id: clientId(id), accountId });
  }

  /** A page of the account's webhooks; with `select`, nodes carry only those properties (see `paginate`). */
  list(accountId: string, args: PageArgs & { active?: boolean | null }, select?: ReadonlySet<string>): Promise<Page<Webhook>> {
    return paginate(this.db.reader, Webhook, { accountId, active: args.active }, args, 'createdAt', select);
  }

  /** Every webhook of the account, in list order (newest first, ties by id), read a page at a time. */
  async listAll(accountId: string): Promise<Webhook[]> {
    const webhooks: Webhook[] = [];
    let after: string | null = null;
    do {
      const page = await this.list(accountId, { first: MAX_PAGE_SIZE, after });
      webhooks.push(...page.nodes);
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    return webhooks;
  }

  private async checkUrl(url: string): Promise<string> {
    try {
      return await checkWebhookUrl(userText(url).trim(), this.config.allowPrivateUrls, this.resolve);
    } catch (error) {
      if (error instanceof UrlPolicyError) throw new InvalidInput('url', `"url" ${error.message}`);
      throw error;
    }
  }
}

function checkEvents(events: EventType[] | null | undefined): EventType[] {
  const unique = foldEventTypes(events) ?? [];
  if (unique.length === 0) throw new InvalidInput('events', '"events" must name at least one event type');
  return unique;
}

function checkDescription(description: string | null | undefined): string | null {
  if (description === undefined || description === null) return null;
  if (description.length > DESCRIPTION_MAX) {
    throw new InvalidInput('description', `"description" must be at most ${DESCRIPTION_MAX} characters`);
  }
  return userText(description);
}
