import { insertRows } from '../../src/db/raw-sql';
import { DeliveryAttempt } from '../../src/delivery/delivery-attempt.entity';
import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { Delivery } from '../../src/delivery/delivery.entity';
import { EventType } from '../../src/events/event-type';
import { Event } from '../../src/events/event.entity';
import { newId } from '../../src/ids';
import { TestServer } from './server';

/** A stored delivery as a test wants it, with its attempts (start time and duration). */
export interface HistoryDelivery {
  eventId: string;
  webhookId: string;
  status: DeliveryStatus;
  createdAt: Date;
  /** Defaults: the last attempt's end for an ended delivery, null for a pending one. */
  completedAt?: Date | null;
  attempts?: Array<{ startedAt: Date; durationMs: number }>;
}

/**
 * Writes events and deliveries straight into the server's database (through its write serializer),
 * for histories too large or too old to make through the API: hours ago, thousands of rows.
 */
export class DeliveryHistory {
  constructor(
    private readonly server: TestServer,
    private readonly accountId: string,
  ) {}

  /** Stored events of the account (ids only matter here: `project.created` with a stub body). */
  async events(count: number, createdAt: Date): Promise<string[]> {
    const rows = Array.from({ length: count }, () => {
      const id = newId('evt');
      return Object.assign(new Event(), {
        id,
        accountId: this.accountId,
        type: EventType.PROJECT_CREATED,
        projectId: newId('proj'),
        buildId: null,
        payload: JSON.stringify({ id, type: 'project.created' }),
        createdAt,
        test: false,
      });
    });
    await this.server.app.db.writes.write((tx) => insertRows(tx.manager, Event, rows));
    return rows.map((row) => row.id);
  }

  /** Stores the deliveries and their attempts; returns the delivery ids in the same order. */
  async deliveries(deliveries: HistoryDelivery[]): Promise<string[]> {
    const rows: Delivery[] = [];
    const attempts: DeliveryAttempt[] = [];
    for (const delivery of deliveries) {
      const id = newId('dlv');
      const tried = delivery.attempts ?? [];
      const ended = delivery.status !== DeliveryStatus.PENDING;
      const completedAt = delivery.completedAt !== undefined ? delivery.completedAt : ended ? endOf(delivery.createdAt, tried) : null;
      rows.push(
        Object.assign(new Delivery(), {
          id,
          accountId: this.accountId,
          webhookId: delivery.webhookId,
          eventId: delivery.eventId,
          status: delivery.status,
          attemptCount: tried.length,
          nextAttemptAt: ended ? null : delivery.createdAt,
          createdAt: delivery.createdAt,
          completedAt,
        }),
      );
      tried.forEach((attempt, index) =>
        attempts.push(
          Object.assign(new DeliveryAttempt(), {
            id: newId('att'),
            deliveryId: id,
            number: index + 1,
            startedAt: attempt.startedAt,
            durationMs: attempt.durationMs,
            responseStatus: delivery.status === DeliveryStatus.SUCCEEDED && index === tried.length - 1 ? 200 : 500,
            responseBody: null,
            error: null,
          }),
        ),
      );
    }
    await this.server.app.db.writes.write(async (tx) => {
      await insertRows(tx.manager, Delivery, rows);
      await insertRows(tx.manager, DeliveryAttempt, attempts);
    });
    return rows.map((row) => row.id);
  }
}

function endOf(createdAt: Date, attempts: Array<{ startedAt: Date; durationMs: number }>): Date {
  const last = attempts.at(-1);
  return last ? new Date(last.startedAt.getTime() + last.durationMs) : createdAt;
}
