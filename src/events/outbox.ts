import { Build } from '../builds/build.entity';
import { Clock } from '../clock';
import { insertRows } from '../db/insert-rows';
import { WriteTransaction } from '../db/write-serializer';
import { Delivery, newPendingDelivery } from '../delivery/delivery.entity';
import { newId } from '../ids';
import { Project } from '../projects/project.entity';
import { Webhook } from '../webhooks/webhook.entity';
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
    const event = tx.manager.create(Event, {
      id,
      accountId,
      type,
      projectId: project.id,
      buildId: build?.id ?? null,
      payload: serializeEventBody(id, type, createdAt, project, build),
      createdAt,
      test: false,
    });
    await tx.manager.insert(Event, event);
    const webhooks = await tx.manager.find(Webhook, { where: { accountId, active: true }, select: ['id', 'events'] });
    const deliveries = webhooks
      .filter((webhook) => webhook.events.includes(type))
      .map((webhook) => newPendingDelivery(accountId, webhook.id, id, createdAt));
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
