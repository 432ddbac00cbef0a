import { DataSource } from 'typeorm';
import { chunks } from '../db/raw-sql';
import { DeliveryStatus } from './delivery-status';
import { EventType } from '../events/event-type';

/** What an attempt needs of a stored delivery: its current state and its event's body. */
export interface StoredDelivery {
  id: string;
  status: DeliveryStatus;
  attemptCount: number;
  type: EventType;
  payload: string;
}

/**
 * Reads stored deliveries for attempts that did not come straight from a committed event (restart,
 * retry, redelivery). Loads asked for in the same tick share one query, so draining a backlog costs
 * one read per batch, not per delivery.
 */
export class StoredDeliveryLoader {
  private waiting = new Map<string, Array<{ resolve: (row: StoredDelivery | null) => void; reject: (error: unknown) => void }>>();
  private scheduled = false;

  constructor(private readonly reader: DataSource) {}

  /** The delivery with its event, or null when it no longer exists. */
  load(id: string): Promise<StoredDelivery | null> {
    return new Promise((resolve, reject) => {
      const callers = this.waiting.get(id) ?? [];
      callers.push({ resolve, reject });
      this.waiting.set(id, callers);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    this.scheduled = false;
    const ids = [...batch.keys()];
    for (const chunk of chunks(ids)) {
      try {
        const rows: StoredDelivery[] = await this.reader.query(
          `SELECT "d"."id", "d"."status", "d"."attemptCount", "e"."type", "e"."payload"
           FROM "deliveries" "d" JOIN "events" "e" ON "e"."id" = "d"."eventId"
           WHERE "d"."id" IN (${chunk.map(() => '?').join(', ')})`,
          chunk,
        );
        const byId = new Map(rows.map((row) => [row.id, row]));
        for (const id of chunk) for (const caller of batch.get(id)!) caller.resolve(byId.get(id) ?? null);
      } catch (error) {
        for (const id of chunk) for (const caller of batch.get(id)!) caller.reject(error);
      }
    }
  }
}
