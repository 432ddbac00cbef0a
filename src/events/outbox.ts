import { EntityManager } from 'typeorm';
import { Clock } from '../clock';
import { engineOf } from '../db/engine';
import { announce } from '../db/notify';
import { chunks, insertRows, queryRows, storedTime, storedValue } from '../db/raw-sql';
import { DeferredBatch, WriteOptions, WriteTransaction } from '../db/write-serializer';
import { LocalWorker } from '../delivery/delivery-queue';
import { Delivery, newPendingDelivery } from '../delivery/delivery.entity';
import { newId } from '../ids';
import { CommitSignals } from '../feed/commit-signals';
import { nextEventPositions } from '../feed/feed.queries';
import { BuildData, ProjectData, serializeEventBody } from './event-payload';
import { EventType } from './event-type';
import { Event } from './event.entity';

/** An event recorded by a write, inserted with its group's others; `deliveries` is filled then. */
interface PendingEvent {
  event: Event;
  deliveries: Delivery[];
}

/**
 * The transactional outbox: a change, its event and a PENDING delivery for every active webhook of
 * the account subscribed to the type are written in the change's own transaction, the event with its
 * place in commit order. Subscribers hear of it through the feed and workers find the deliveries in
 * their table, so a rollback leaves nothing stored, nothing sent and nothing published; after a
 * commit the signals offer this process's reader the events (it reads only if another process
 * committed in between) and wake its worker.
 *
 * The rows are deferred to the write's group (see `WriteSerializer`): the events of all the writes
 * of a group go in one INSERT, which also returns each event's subscribed webhooks, and their
 * deliveries in another; writes that record events run `aheadOfDeferred`, as `OUTBOX_WRITE` says.
 */
export class Outbox {
  private readonly pending: DeferredBatch<PendingEvent> = { flush: (manager, items) => this.insert(manager, items) };

  /** @param worker this process's worker, if it has one: new deliveries go to it leased (see `LocalWorker`). */
  constructor(
    private readonly signals: CommitSignals,
    private readonly clock: Clock,
    private readonly worker?: LocalWorker,
  ) {}

  record(tx: WriteTransaction, accountId: string, type: EventType, project: ProjectData, build?: BuildData): Event {
    const createdAt = this.clock.now();
    const id = newId('evt', createdAt.getTime());
    const event = Object.assign(new Event(), {
      id,
      accountId,
      type,
      projectId: project.id,
      buildId: build?.id ?? null,
      payload: serializeEventBody(id, type, createdAt, project, build),
      createdAt,
      test: false,
      position: null,
    });
    const pending: PendingEvent = { event, deliveries: [] };
    tx.defer(this.pending, pending);
    tx.afterCommit(() => {
      this.signals.eventsCommitted([
        { id, accountId, type, projectId: project.id, createdAt, payload: event.payload, position: event.position! },
      ]);
      const handed = pending.deliveries.filter((delivery) => delivery.leaseToken !== null);
      if (handed.length > 0) {
        this.worker?.accept(
          handed.map((delivery) => ({
            id: delivery.id,
            accountId,
            webhookId: delivery.webhookId,
            eventId: id,
            attemptCount: 0,
            leaseToken: delivery.leaseToken!,
            leaseExpiresAt: delivery.nextAttemptAt!,
            type,
            payload: event.payload,
          })),
        );
      }
      if (handed.length < pending.deliveries.length) this.signals.deliveriesDue();
    });
    return event;
  }

  /** The events, each returning its account's active webhooks subscribed to its type; then their deliveries. */
  private async insert(manager: EntityManager, items: PendingEvent[]): Promise<void> {
    const byId = new Map(items.map((item) => [item.event.id, item]));
    const positions = await nextEventPositions(manager, items.length);
    const handOff = this.worker?.handOff();
    items.forEach((item, index) => (item.event.position = positions[index]));
    for (const chunk of chunks(items)) {
      const rows = await queryRows<{ id: string; webhookIds: string | null }>(
        manager,
        `INSERT INTO "events" ("id", "accountId", "type", "projectId", "buildId", "payload", "createdAt", "test", "position")
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         RETURNING "id", (${subscribedWebhookIds[engineOf(manager)]}) AS "webhookIds"`,
        chunk.flatMap(({ event }) => [
          event.id,
          event.accountId,
          event.type,
          event.projectId,
          event.buildId,
          event.payload,
          storedTime(manager, event.createdAt),
          storedValue(manager, Event, 'test', event.test),
          event.position,
        ]),
      );
      for (const { id, webhookIds } of rows) {
        const { event, deliveries } = byId.get(id)!;
        for (const webhookId of webhookIds?.split(',') ?? []) {
          const delivery = newPendingDelivery(event.accountId, webhookId, id, event.createdAt);
          const lease = handOff?.leaseFor(event.accountId, webhookId);
          if (lease) Object.assign(delivery, { nextAttemptAt: lease.expiresAt, leaseOwner: lease.owner, leaseToken: lease.token });
          deliveries.push(delivery);
        }
      }
    }
    const deliveries = items.flatMap((item) => item.deliveries);
    await insertRows(manager, Delivery, deliveries);
    if (deliveries.some((delivery) => !delivery.leaseToken)) await announce(manager, 'work');
  }
}

/** The ids, comma-separated, of the event's account's active webhooks subscribed to its type (`webhooks.events` is a comma list). */
const subscribedWebhookIds = {
  sqlite: `SELECT group_concat("webhooks"."id") FROM "webhooks"
    WHERE "webhooks"."accountId" = "events"."accountId" AND "webhooks"."active" = 1
      AND instr(',' || "webhooks"."events" || ',', ',' || "events"."type" || ',') > 0`,
  postgres: `SELECT string_agg("webhooks"."id", ',') FROM "webhooks"
    WHERE "webhooks"."accountId" = "events"."accountId" AND "webhooks"."active"
      AND strpos(',' || "webhooks"."events" || ',', ',' || "events"."type" || ',') > 0`,
};

/** Writes that record events and touch only their own tables besides (builds, projects): see `Outbox`. */
export const OUTBOX_WRITE: WriteOptions = { aheadOfDeferred: true };
