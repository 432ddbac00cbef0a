import { Build } from '../builds/build.entity';
import { Clock } from '../clock';
import { insertRows, queryRows, storedValue } from '../db/raw-sql';
import { WriteTransaction } from '../db/write-serializer';
import { Delivery, newPendingDelivery } from '../delivery/delivery.entity';
import { newId } from '../ids';
import { Project } from '../projects/project.entity';
import { EventBus } from './event-bus';
import { serializeEventBody } from './event-payload';
import { EventType } from './event-type';
import { Event } from './event.entity';

/**
 * The transactional outbox: a change, its event and a PENDING delivery for every active webhook of
 * the account subscribed to the type are written in the change's own transaction; the event is
 * published only after that transaction commits. A rollback leaves nothing stored and nothing sent.
 */
export class Outbox {
  constructor(
    private readonly bus: EventBus,
    private readonly clock: Clock,
  ) {}

  async record(
    tx: WriteTransaction,
    accountId: string,
    type: EventType,
    project: Pick<Project, 'id' | 'name'>,
    build?: Build,
  ): Promise<Event> {
    const createdAt = this.clock.now();
    const id = newId('evt');
    const event = Object.assign(new Event(), {
      id,
      accountId,
      type,
      projectId: project.id,
      buildId: build?.id ?? null,
      payload: serializeEventBody(id, type, createdAt, project, build),
      createdAt,
      test: false,
    });
    // The subscribed webhooks come back with the insert: one statement fewer on every mutation.
    const [{ webhookIds }] = await queryRows<{ webhookIds: string | null }>(
      tx.manager,
      `INSERT INTO "events" ("id", "accountId", "type", "projectId", "buildId", "payload", "createdAt", "test")
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       RETURNING (SELECT group_concat("webhooks"."id") FROM "webhooks"
         WHERE "webhooks"."accountId" = ? AND "webhooks"."active" = 1 AND instr(',' || "webhooks"."events" || ',', ?) > 0) AS "webhookIds"`,
      [
        id,
        accountId,
        type,
        event.projectId,
        event.buildId,
        event.payload,
        storedValue(tx.manager, Event, 'createdAt', createdAt),
        storedValue(tx.manager, Event, 'test', false),
        accountId,
        `,${type},`,
      ],
    );
    const deliveries = (webhookIds?.split(',') ?? []).map((webhookId) => newPendingDelivery(accountId, webhookId, id, createdAt));
    await insertRows(tx.manager, Delivery, deliveries);
    tx.afterCommit(() =>
      this.bus.publish('event', {
        id,
        accountId,
        type,
        projectId: project.id,
        createdAt,
        payload: event.payload,
        deliveries: deliveries.map((d) => ({ id: d.id, webhookId: d.webhookId })),
      }),
    );
    return event;
  }
}
