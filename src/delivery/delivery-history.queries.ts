import { DataSource } from 'typeorm';
import { storedDatetime } from '../db/raw-sql';
import { DeliveryStatus } from './delivery-status';

/**
 * The hand-written SQL over one webhook's delivery history: `Webhook.stats`. Every statement reads through the indexes of migration
 * DeliveryHistoryIndexes, so its cost follows the rows it is about, not the size of the table.
 */

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
