import { EntityManager, In } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { announce } from '../db/notify';
import { insertRows } from '../db/raw-sql';
import { WriteTransaction } from '../db/write-serializer';
import { Conflict, NotFound } from '../errors';
import { ChangeLog } from '../feed/change-log';
import { CommitSignals } from '../feed/commit-signals';
import { EventType } from '../events/event-type';
import { Event } from '../events/event.entity';
import { clientId, newId } from '../ids';
import { Webhook } from '../webhooks/webhook.entity';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { deliveryHistoryCounts, DeliveryHistoryCounts, recoverableFailures, RecoveryCursor } from './delivery-history.queries';
import { DeliveryStatus } from './delivery-status';
import { Delivery, newPendingDelivery } from './delivery.entity';
import { sampleEventBody } from './sample-event';

/** FAILED deliveries sent again per write transaction by `recoverFailed` (one INSERT statement). */
export const RECOVERY_CHUNK = 500;

/** The window of `stats` when none is given. */
export const DEFAULT_STATS_WINDOW_MS = 24 * 60 * 60 * 1000;

/** How a webhook has been doing since a time. */
export interface WebhookStats extends DeliveryHistoryCounts {
  since: Date;
  /** succeeded ÷ (succeeded + failed); null when both are 0. */
  successRate: number | null;
}

export interface DeliveryFilter {
  webhookId?: string | null;
  eventId?: string | null;
  status?: DeliveryStatus | null;
}

/**
 * Deliveries and their attempts, always scoped to one account, and the ways a user makes them by
 * hand (redeliver, test, recover after an outage). New deliveries are due at once: workers find them
 * in the table (this process's at once, through `signals`), and `deliveryUpdated` hears of them
 * through the feed.
 */
export class DeliveriesService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly changes: ChangeLog,
    private readonly signals: CommitSignals,
  ) {}

  get(accountId: string, id: string): Promise<Delivery | null> {
    return this.db.reader.getRepository(Delivery).findOneBy({ id: clientId(id), accountId });
  }

  list(accountId: string, args: PageArgs & DeliveryFilter, select?: ReadonlySet<string>): Promise<Page<Delivery>> {
    const { webhookId, eventId, status } = args;
    return paginate(
      this.db.reader,
      Delivery,
      { accountId, webhookId: clientId(webhookId), eventId: clientId(eventId), status },
      args,
      'createdAt',
      select,
    );
  }

  attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.db.reader.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });
  }

  /** The attempts of each of these deliveries, by delivery id, oldest first. */
  async attemptsOfMany(deliveryIds: readonly string[]): Promise<Map<string, DeliveryAttempt[]>> {
    const attempts = await this.db.reader
      .getRepository(DeliveryAttempt)
      .find({ where: { deliveryId: In([...deliveryIds]) }, order: { number: 'ASC' } });
    const byDelivery = new Map<string, DeliveryAttempt[]>(deliveryIds.map((id) => [id, []]));
    for (const attempt of attempts) byDelivery.get(attempt.deliveryId)?.push(attempt);
    return byDelivery;
  }

  /**
   * A new delivery (new id) of the same event to the same webhook, due at once: the receiver gets the
   * stored body byte for byte, with the same `webhook-id` (the event id) for deduplication.
   */
  redeliver(accountId: string, deliveryId: string): Promise<Delivery> {
    return this.db.writes.write(async (tx) => {
      const original = await tx.manager.findOneBy(Delivery, { id: clientId(deliveryId), accountId });
      if (!original) throw new NotFound('Delivery');
      await activeWebhook(tx.manager, accountId, original.webhookId, 'The webhook of this delivery has been deleted');
      const [delivery] = await this.createPending(tx, accountId, original.webhookId, [original.eventId]);
      return delivery;
    });
  }

  /**
   * After an outage: a new delivery, as `redeliver` makes, for every event whose latest delivery to
   * the webhook ended FAILED and was created at or after `since` (one per event; events with a
   * PENDING delivery to it, or a success after the failure, are left alone). Returns how many were
   * made. Works through the failures in chunks of `RECOVERY_CHUNK`, each its own write transaction,
   * so memory stays bounded and other writes go on between chunks; if the webhook is disabled or
   * deleted meanwhile, it stops there. Only deliveries created before the call are considered.
   */
  async recoverFailed(accountId: string, webhookId: string, since: Date): Promise<number> {
    const startedAt = this.clock.now();
    let after: RecoveryCursor | null = null;
    let count = 0;
    do {
      const from: RecoveryCursor | null = after;
      const chunk = await this.db.writes.write(async (tx) => {
        if (!from) await activeWebhook(tx.manager, accountId, webhookId);
        else if (!(await tx.manager.existsBy(Webhook, { id: webhookId, accountId, active: true }))) return null;
        const failures = await recoverableFailures(tx.manager, { webhookId, since, before: startedAt, after: from, limit: RECOVERY_CHUNK });
        await this.createPending(tx, accountId, webhookId, failures.eventIds, startedAt);
        return failures;
      });
      count += chunk?.eventIds.length ?? 0;
      after = chunk?.next ?? null;
    } while (after);
    return count;
  }

  /** The webhook's deliveries since `since` (default: the last 24 hours) by status, and its attempt durations. */
  async stats(webhookId: string, since?: Date | null): Promise<WebhookStats> {
    const from = since ?? new Date(this.clock.now().getTime() - DEFAULT_STATS_WINDOW_MS);
    const counts = await deliveryHistoryCounts(this.db.reader, webhookId, from);
    const ended = counts.succeeded + counts.failed;
    return { ...counts, since: from, successRate: ended === 0 ? null : counts.succeeded / ended };
  }

  /**
   * Sends a sample event of `type` (default: the webhook's first subscribed type) to this webhook
   * only. The sample is stored as a test event: never published to subscribers, not in `events`.
   */
  sendTest(accountId: string, webhookId: string, type?: EventType | null): Promise<Delivery> {
    return this.db.writes.write(async (tx) => {
      const webhook = await activeWebhook(tx.manager, accountId, webhookId);
      const eventType = type ?? webhook.events[0];
      const createdAt = this.clock.now();
      const id = newId('evt', createdAt.getTime());
      const sample = sampleEventBody(id, eventType, createdAt);
      await tx.manager.insert(Event, { id, accountId, type: eventType, ...sample, createdAt, test: true });
      const [delivery] = await this.createPending(tx, accountId, webhookId, [id]);
      return delivery;
    });
  }

  /** New PENDING deliveries of `eventIds` to the webhook, due at `now`, announced through the feed. */
  private async createPending(
    tx: WriteTransaction,
    accountId: string,
    webhookId: string,
    eventIds: string[],
    now = this.clock.now(),
  ): Promise<Delivery[]> {
    const deliveries = eventIds.map((eventId) => newPendingDelivery(accountId, webhookId, eventId, now));
    await insertRows(tx.manager, Delivery, deliveries);
    await announce(tx.manager, 'work');
    await this.changes.recordAll(
      tx,
      deliveries.map(({ id, eventId, status }) => ({ topic: 'delivery' as const, message: { id, accountId, webhookId, eventId, status } })),
    );
    tx.afterCommit(() => this.signals.deliveriesDue());
    return deliveries;
  }
}

/** The account's webhook if it can receive deliveries now; NOT_FOUND or CONFLICT otherwise. */
async function activeWebhook(manager: EntityManager, accountId: string, id: string, goneMessage?: string): Promise<Webhook> {
  const webhook = await manager.findOneBy(Webhook, { id: clientId(id), accountId });
  if (!webhook) {
    if (goneMessage) throw new Conflict(goneMessage);
    throw new NotFound('Webhook');
  }
  if (!webhook.active) throw new Conflict('The webhook is inactive: enable it first (updateWebhook with active: true)');
  return webhook;
}
