import { DataSource, EntityManager } from 'typeorm';
import { storedDatetime } from '../db/raw-sql';
import { DeliveryStatus } from './delivery-status';

/**
 * The hand-written SQL over one webhook's delivery history: what `recoverFailedDeliveries` sends
 * again, and `Webhook.stats`. Every statement reads through the indexes of migration
 * DeliveryHistoryIndexes, so its cost follows the rows it is about, not the size of the table.
 */

/** Where a walk over a webhook's FAILED deliveries goes on from: the last one seen, as stored. */
export interface RecoveryCursor {
  createdAt: string;
  id: string;
}

export interface RecoveryChunk {
  /** The events to deliver again, one per event. */
  eventIds: string[];
  /** Where the next chunk starts; null when this one was the last. */
  next: RecoveryCursor | null;
}

/**
 * The next `limit` events whose latest delivery to `webhookId` ended FAILED, taken in the order of
 * those deliveries (createdAt, then id), for deliveries created at or after `since` and before
 * `before`, after `after`. An event with a PENDING delivery to the webhook, or with any delivery
 * made after its FAILED one (a success, or a redelivery such as those this walk makes), is left out;
 * so is everything created from `before` on, so the walk never meets the deliveries it makes.
 */
export async function recoverableFailures(
  manager: EntityManager,
  { webhookId, since, before, after, limit }: { webhookId: string; since: Date; before: Date; after: RecoveryCursor | null; limit: number },
): Promise<RecoveryChunk> {
  const from = after ?? { createdAt: storedDatetime(since), id: '' };
  const rows: Array<{ id: string; eventId: string; createdAt: string }> = await manager.query(
    `SELECT "f"."id", "f"."eventId", "f"."createdAt" FROM "deliveries" "f"
     WHERE "f"."webhookId" = ? AND "f"."status" = ? AND ("f"."createdAt", "f"."id") > (?, ?) AND "f"."createdAt" < ?
       AND NOT EXISTS (
         SELECT 1 FROM "deliveries" "o"
         WHERE "o"."eventId" = "f"."eventId" AND "o"."webhookId" = "f"."webhookId" AND "o"."id" <> "f"."id"
           AND ("o"."status" = ? OR ("o"."createdAt", "o"."id") > ("f"."createdAt", "f"."id")))
     ORDER BY "f"."createdAt", "f"."id"
     LIMIT ?`,
    [webhookId, DeliveryStatus.FAILED, from.createdAt, from.id, storedDatetime(before), DeliveryStatus.PENDING, limit],
  );
  const last = rows.at(-1);
  return {
    eventIds: rows.map((row) => row.eventId),
    next: rows.length === limit && last ? { createdAt: last.createdAt, id: last.id } : null,
  };
}

export interface DeliveryHistoryCounts {
  succeeded: number;
  failed: number;
  pending: number;
  /** Attempts started at or after the window's start. */
  attempts: number;
  /** Nearest-rank percentiles of those attempts' durations; null when there were none. */
  attemptDurationP50Ms: number | null;
  attemptDurationP95Ms: number | null;
}

/**
 * One statement: the webhook's deliveries created since `since` by status, and the attempts started
 * since then with their 50th and 95th percentile durations. Attempts since `since` belong to
 * deliveries still PENDING or completed since then (a delivery completes after its last attempt
 * starts), and both sets come from indexes. The percentiles are exact (nearest rank: the smallest
 * duration that at least p% of the attempts do not exceed), found in SQL over the durations grouped
 * by value (whole milliseconds, so at most a few thousand groups) rather than by sorting every attempt.
 */
export async function deliveryHistoryCounts(reader: DataSource, webhookId: string, since: Date): Promise<DeliveryHistoryCounts> {
  const from = storedDatetime(since);
  const [row]: Array<Record<keyof DeliveryHistoryCounts, number | null>> = await reader.query(
    `WITH
       "touched" ("id") AS (
         SELECT "id" FROM "deliveries" WHERE "webhookId" = ? AND "completedAt" >= ?
         UNION ALL
         SELECT "id" FROM "deliveries" WHERE "webhookId" = ? AND "status" = ?),
       "durations" ("ms", "count") AS (
         SELECT "a"."durationMs", COUNT(*) FROM "touched" "d" JOIN "delivery_attempts" "a" ON "a"."deliveryId" = "d"."id"
         WHERE "a"."startedAt" >= ? GROUP BY "a"."durationMs"),
       "ranked" ("ms", "upTo", "total") AS (
         SELECT "ms", SUM("count") OVER (ORDER BY "ms"), SUM("count") OVER () FROM "durations")
     SELECT
       (SELECT COUNT(*) FROM "deliveries" WHERE "webhookId" = ? AND "status" = ? AND "createdAt" >= ?) AS "succeeded",
       (SELECT COUNT(*) FROM "deliveries" WHERE "webhookId" = ? AND "status" = ? AND "createdAt" >= ?) AS "failed",
       (SELECT COUNT(*) FROM "deliveries" WHERE "webhookId" = ? AND "status" = ? AND "createdAt" >= ?) AS "pending",
       (SELECT COALESCE(MAX("total"), 0) FROM "ranked") AS "attempts",
       (SELECT "ms" FROM "ranked" WHERE "upTo" * 100 >= "total" * 50 ORDER BY "ms" LIMIT 1) AS "attemptDurationP50Ms",
       (SELECT "ms" FROM "ranked" WHERE "upTo" * 100 >= "total" * 95 ORDER BY "ms" LIMIT 1) AS "attemptDurationP95Ms"`,
    [
      webhookId, from, webhookId, DeliveryStatus.PENDING, from,
      webhookId, DeliveryStatus.SUCCEEDED, from,
      webhookId, DeliveryStatus.FAILED, from,
      webhookId, DeliveryStatus.PENDING, from,
    ],
  );
  return {
    succeeded: Number(row.succeeded),
    failed: Number(row.failed),
    pending: Number(row.pending),
    attempts: Number(row.attempts),
    attemptDurationP50Ms: row.attemptDurationP50Ms === null ? null : Number(row.attemptDurationP50Ms),
    attemptDurationP95Ms: row.attemptDurationP95Ms === null ? null : Number(row.attemptDurationP95Ms),
  };
}
