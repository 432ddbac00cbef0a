import { EntityManager } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { WriteTransaction } from '../db/write-serializer';
import { Conflict, NotFound } from '../errors';
import { EventBus } from '../events/event-bus';
import { EventType } from '../events/event-type';
import { Event } from '../events/event.entity';
import { newId } from '../ids';
import { Webhook } from '../webhooks/webhook.entity';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { deliveryHistoryCounts, DeliveryHistoryCounts } from './delivery-history.queries';
import { DeliveryStatus } from './delivery-status';
import { Delivery, newPendingDelivery } from './delivery.entity';
import { sampleEventBody } from './sample-event';

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
 * Deliveries and their attempts, always scoped to one account, and the two ways a user makes one by
 * hand. New deliveries are announced on the bus (`delivery`, PENDING) after their commit; the
 * dispatcher picks them up from there.
 */
export class DeliveriesService {
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {}

  get(accountId: string, id: string): Promise<Delivery | null> {
    return this.db.reader.getRepository(Delivery).findOneBy({ id, accountId });
  }

  list(accountId: string, args: PageArgs & DeliveryFilter, select?: ReadonlySet<string>): Promise<Page<Delivery>> {
    const { webhookId, eventId, status } = args;
    return paginate(this.db.reader, Delivery, { accountId, webhookId, eventId, status }, args, 'createdAt', select);
  }

  attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.db.reader.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });
  }

  /**
   * A new delivery (new id) of the same event to the same webhook, due at once: the receiver gets the
   * stored body byte for byte, with the same `webhook-id` (the event id) for deduplication.
   */
  redeliver(accountId: string, deliveryId: string): Promise<Delivery> {
    return this.db.writes.write(async (tx) => {
      const original = await tx.manager.findOneBy(Delivery, { id: deliveryId, accountId });
      if (!original) throw new NotFound('Delivery');
      await activeWebhook(tx.manager, accountId, original.webhookId, 'The webhook of this delivery has been deleted');
      return this.createPending(tx, accountId, original.webhookId, original.eventId);
    });
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
      const id = newId('evt');
      const createdAt = this.clock.now();
      const sample = sampleEventBody(id, eventType, createdAt);
      await tx.manager.insert(Event, { id, accountId, type: eventType, ...sample, createdAt, test: true });
      return this.createPending(tx, accountId, webhookId, id);
    });
  }

  private async createPending(tx: WriteTransaction, accountId: string, webhookId: string, eventId: string): Promise<Delivery> {
    const delivery = newPendingDelivery(accountId, webhookId, eventId, this.clock.now());
    await tx.manager.insert(Delivery, delivery);
    tx.afterCommit(() => this.bus.publish('delivery', { id: delivery.id, accountId, webhookId, eventId, status: delivery.status }));
    return delivery;
  }
}

/** The account's webhook if it can receive deliveries now; NOT_FOUND or CONFLICT otherwise. */
async function activeWebhook(manager: EntityManager, accountId: string, id: string, goneMessage?: string): Promise<Webhook> {
  const webhook = await manager.findOneBy(Webhook, { id, accountId });
  if (!webhook) {
    if (goneMessage) throw new Conflict(goneMessage);
    throw new NotFound('Webhook');
  }
  if (!webhook.active) throw new Conflict('The webhook is inactive: enable it first (updateWebhook with active: true)');
  return webhook;
}
