import { DataSource, EntityManager } from 'typeorm';
import { queryRows, storedTime } from '../db/raw-sql';
import { DeliveryStatus } from './delivery-status';

/**
 * The hand-written SQL over one webhook's delivery history: what `recoverFailedDeliveries` sends
 * again, and `Webhook.stats`. Every statement reads through the indexes of migration
 * DeliveryHistoryIndexes, so its cost follows the rows it is about, not the size of the table.
 */

/**
 * Where a walk over a webhook's FAILED deliveries goes on from: the creation time (as stored) of
 * the last one it took. The next chunk starts at that same time, not after it, so deliveries made
 * in the same millisecond are never skipped; those already taken are left out by then anyway.
 */
export type RecoveryCursor = string | Date;

export interface RecoveryChunk {
  /** The events to deliver again, one per event. */
  eventIds: string[];
  /** Where the next chunk starts; null when this one was the last. */
  next: RecoveryCursor | null;
}

/**
 * The next `limit` events whose latest delivery to `webhookId` ended FAILED, in the order of those
 * deliveries' creation, for deliveries created at or after `since` (or the cursor `after`) and
 * before `before`. An event with a PENDING delivery to the webhook, or with any delivery made after
 * its FAILED one (a success, or a redelivery such as those this walk makes), is left out; so is
 * everything created from `before` on, so the walk never meets the deliveries it makes.
 */
export async function recoverableFailures(
  manager: EntityManager,
  { webhookId, since, before, after, limit }: { webhookId: string; since: Date; before: Date; after: RecoveryCursor | null; limit: number },
): Promise<RecoveryChunk> {
  const rows = await queryRows<{ eventId: string; createdAt: RecoveryCursor }>(
    manager,
    `SELECT "f"."eventId", "f"."createdAt" FROM "deliveries" "f"
     WHERE "f"."webhookId" = ? AND "f"."createdAt" >= ? AND "f"."createdAt" < ? AND "f"."status" = ?
       AND NOT EXISTS (
         SELECT 1 FROM "deliveries" "o"
         WHERE "o"."eventId" = "f"."eventId" AND "o"."webhookId" = "f"."webhookId" AND "o"."id" <> "f"."id"
           AND ("o"."status" = ? OR ("o"."createdAt", "o"."id") > ("f"."createdAt", "f"."id")))
     ORDER BY "f"."createdAt"
     LIMIT ?`,
    [webhookId, after ?? storedTime(manager, since), storedTime(manager, before), DeliveryStatus.FAILED, DeliveryStatus.PENDING, limit],
  );
  return {
    eventIds: rows.map((row) => row.eventId),
    next: rows.length === limit ? rows[rows.length - 1].createdAt : null,
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
 * How long before the window a delivery may have been created and still have attempts in it that
 * count. With the default delays a delivery's last attempt comes within about 3 hours of its
 * creation (Retry-After of up to an hour included); a day also covers delays of several hours, or
 * a service stopped for most of a day. Each day of it costs a day of the webhook's index to scan
 * (a week made a 24-hour window on a million deliveries about three times slower).
 */
export const ATTEMPT_LOOKBACK_MS = 24 * 60 * 60 * 1000;

/**
 * One statement: the webhook's deliveries created since `since` by status, and the attempts started
 * since then with their 50th and 95th percentile durations. Attempts since `since` belong to
 * deliveries still PENDING or completed since then (a delivery completes after its last attempt
 * starts), created at most `ATTEMPT_LOOKBACK_MS` before it; the webhook's index holds all that, so
 * only the attempts are read beside it. The percentiles are exact (nearest rank: the smallest
 * duration that at least p% of the attempts do not exceed), found in SQL over the durations grouped
 * by value (whole milliseconds, so at most a few thousand groups) rather than by sorting every attempt.
 */
export async function deliveryHistoryCounts(reader: DataSource, webhookId: string, since: Date): Promise<DeliveryHistoryCounts> {
  const from = storedTime(reader, since);
  const [row] = await queryRows<Record<keyof DeliveryHistoryCounts, number | string | null>>(
    reader,
    `WITH
       "touched" ("id") AS (
         SELECT "id" FROM "deliveries"
         WHERE "webhookId" = ? AND "createdAt" >= ? AND ("status" = ? OR "completedAt" >= ?)),
       "durations" ("ms", "count") AS (
         SELECT "a"."durationMs", COUNT(*) FROM "touched" "d" JOIN "delivery_attempts" "a" ON "a"."deliveryId" = "d"."id"
         WHERE "a"."startedAt" >= ? GROUP BY "a"."durationMs"),
       "ranked" ("ms", "upTo", "total") AS (
         SELECT "ms", SUM("count") OVER (ORDER BY "ms"), SUM("count") OVER () FROM "durations")
     SELECT "created"."succeeded", "created"."failed", "created"."pending",
       (SELECT COALESCE(MAX("total"), 0) FROM "ranked") AS "attempts",
       (SELECT "ms" FROM "ranked" WHERE "upTo" * 100 >= "total" * 50 ORDER BY "ms" LIMIT 1) AS "attemptDurationP50Ms",
       (SELECT "ms" FROM "ranked" WHERE "upTo" * 100 >= "total" * 95 ORDER BY "ms" LIMIT 1) AS "attemptDurationP95Ms"
     FROM (
       SELECT COUNT(CASE WHEN "status" = ? THEN 1 END) AS "succeeded", COUNT(CASE WHEN "status" = ? THEN 1 END) AS "failed",
         COUNT(CASE WHEN "status" = ? THEN 1 END) AS "pending"
       FROM "deliveries" WHERE "webhookId" = ? AND "createdAt" >= ?) "created"`,
    [
      webhookId,
      storedTime(reader, new Date(since.getTime() - ATTEMPT_LOOKBACK_MS)),
      DeliveryStatus.PENDING,
      from,
      from,
      DeliveryStatus.SUCCEEDED,
      DeliveryStatus.FAILED,
      DeliveryStatus.PENDING,
      webhookId,
      from,
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
