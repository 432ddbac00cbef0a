import { DataSource, EntityManager } from 'typeorm';
import { engineOf } from '../db/engine';
import { announce } from '../db/notify';
import { chunks, queryRows, storedTime } from '../db/raw-sql';
import { DeliveryUpdate } from '../event-bus';
import { EventType } from '../events/event-type';
import { newId } from '../ids';
import { DeliveryStatus } from './delivery-status';

/**
 * The hand-written SQL of the delivery domain, in one place: the queue's claims and releases, and
 * the set-based statements that store attempt outcomes. Written once with `?` placeholders and
 * dates through `storedTime`; where the engines differ (claims, typed VALUES) both forms are here.
 */

const PENDING = DeliveryStatus.PENDING;

function placeholders(count: number): string {
  return Array.from({ length: count }, () => '?').join(', ');
}

/** A webhook with at least one delivery due now, and its account. */
export interface DueWebhook {
  webhookId: string;
  accountId: string;
}

/**
 * The webhooks with due deliveries, except `skip` (those already at their cap). One index probe per
 * webhook (`deliveries (webhookId, status, nextAttemptAt)`), however many deliveries wait: a dead
 * endpoint's million-row backlog costs the same as one row.
 */
export function dueWebhooks(reader: DataSource, now: Date, skip: string[]): Promise<DueWebhook[]> {
  return queryRows(
    reader,
    `SELECT "w"."id" AS "webhookId", "w"."accountId" AS "accountId" FROM "webhooks" "w"
     WHERE EXISTS (SELECT 1 FROM "deliveries" "d" WHERE "d"."webhookId" = "w"."id" AND "d"."status" = ? AND "d"."nextAttemptAt" <= ?)
     ${skip.length > 0 ? `AND "w"."id" NOT IN (${placeholders(skip.length)})` : ''}`,
    [PENDING, storedTime(reader, now), ...skip],
  );
}

/** A delivery a worker holds under a lease. */
export interface ClaimedRow {
  id: string;
  accountId: string;
  webhookId: string;
  eventId: string;
  attemptCount: number;
}

export interface Lease {
  owner: string;
  token: string;
  /** Until then nobody else claims the delivery; then it is due again. */
  expiresAt: Date;
}

/**
 * Claims due deliveries, up to each webhook's grant, oldest due first, in one statement: they take
 * the lease, and the lease's expiry becomes their due time, so a worker that dies holds them no
 * longer than that. Each webhook's part is one index range (`webhookId, status, nextAttemptAt`).
 * On PostgreSQL, where workers claim at the same time, rows another claim has locked are skipped
 * (`FOR UPDATE SKIP LOCKED`), so two claims never take the same delivery and never wait on each
 * other; on SQLite the write lock already makes claims take turns.
 */
export async function claimDue(manager: EntityManager, grants: Map<string, number>, now: Date, lease: Lease): Promise<ClaimedRow[]> {
  if (engineOf(manager) === 'postgres') return claimDueSkippingLocked(manager, grants, now, lease);
  const claimed: ClaimedRow[] = [];
  for (const chunk of chunks([...grants], 200)) {
    const parts = chunk.map(
      () =>
        `SELECT "id" FROM (SELECT "id" FROM "deliveries" WHERE "webhookId" = ? AND "status" = ? AND "nextAttemptAt" <= ? ORDER BY "nextAttemptAt" LIMIT ?)`,
    );
    claimed.push(
      ...(await queryRows<ClaimedRow>(
        manager,
        `UPDATE "deliveries" SET "nextAttemptAt" = ?, "leaseOwner" = ?, "leaseToken" = ?
         WHERE "id" IN (${parts.join(' UNION ALL ')})
         RETURNING "id", "accountId", "webhookId", "eventId", "attemptCount"`,
        [
          storedTime(manager, lease.expiresAt),
          lease.owner,
          lease.token,
          ...chunk.flatMap(([webhookId, limit]) => [webhookId, PENDING, storedTime(manager, now), limit]),
        ],
      )),
    );
  }
  return claimed;
}

/**
 * `claimDue` on PostgreSQL: each webhook's grant is a LATERAL range of its due deliveries, locked as
 * read. The ids are gathered first (`= ANY(ARRAY(…))`): with `IN (…)` the planner, which cannot
 * know the grants' sizes, expected a thousand rows per webhook and joined them to a scan of the
 * whole table (31 ms on 200,000 pending rows, and growing with the backlog; 4 ms this way).
 */
async function claimDueSkippingLocked(manager: EntityManager, grants: Map<string, number>, now: Date, lease: Lease): Promise<ClaimedRow[]> {
  const claimed: ClaimedRow[] = [];
  for (const chunk of chunks([...grants], 200)) {
    claimed.push(
      ...(await queryRows<ClaimedRow>(
        manager,
        `UPDATE "deliveries" SET "nextAttemptAt" = ?, "leaseOwner" = ?, "leaseToken" = ?
         WHERE "id" = ANY(ARRAY(
           SELECT "due"."id" FROM unnest(?::varchar[], ?::int[]) AS "grant" ("webhookId", "limit")
           CROSS JOIN LATERAL (
             SELECT "id" FROM "deliveries" WHERE "webhookId" = "grant"."webhookId" AND "status" = ? AND "nextAttemptAt" <= ?
             ORDER BY "nextAttemptAt" LIMIT "grant"."limit" FOR UPDATE SKIP LOCKED) "due"))
         RETURNING "id", "accountId", "webhookId", "eventId", "attemptCount"`,
        [lease.expiresAt, lease.owner, lease.token, chunk.map(([webhookId]) => webhookId), chunk.map(([, limit]) => limit), PENDING, now],
      )),
    );
  }
  return claimed;
}

/** Gives leased deliveries back (not attempted, or cut off at shutdown): due at `dueAt`. */
export async function releaseLeases(manager: EntityManager, leases: Array<{ id: string; token: string }>, dueAt: Date): Promise<void> {
  if (leases.length > 0) await announce(manager, 'work');
  for (const chunk of chunks(leases)) {
    await queryRows(
      manager,
      `UPDATE "deliveries" SET "nextAttemptAt" = ?, "leaseOwner" = NULL, "leaseToken" = NULL
       WHERE "status" = ? AND (${chunk.map(() => '("id" = ? AND "leaseToken" = ?)').join(' OR ')})`,
      [storedTime(manager, dueAt), PENDING, ...chunk.flatMap(({ id, token }) => [id, token])],
    );
  }
}

/** What an attempt needs of a claimed delivery's event. */
export interface DeliveryBody {
  id: string;
  type: EventType;
  payload: string;
}

/** The event type and body of each delivery. */
export async function deliveryBodies(reader: DataSource, ids: string[]): Promise<Map<string, DeliveryBody>> {
  const bodies = new Map<string, DeliveryBody>();
  for (const chunk of chunks(ids)) {
    const rows = await queryRows<DeliveryBody>(
      reader,
      `SELECT "d"."id", "e"."type", "e"."payload" FROM "deliveries" "d" JOIN "events" "e" ON "e"."id" = "d"."eventId"
       WHERE "d"."id" IN (${placeholders(chunk.length)})`,
      chunk,
    );
    for (const row of rows) bodies.set(row.id, row);
  }
  return bodies;
}

/** A delivery's new state after an attempt, stored only while `leaseToken` still holds. */
export interface DeliveryTransition {
  id: string;
  leaseToken: string;
  status: DeliveryStatus;
  attemptCount: number;
  nextAttemptAt: Date | null;
  completedAt: Date | null;
}

/**
 * Gives every delivery that is still PENDING under the same lease its new state, in one statement
 * per 500; returns the ids it changed. (It starts with WITH so TypeORM's SQLite runner returns the
 * RETURNING rows. PostgreSQL types a VALUES list by its first row, so that row's values are cast.)
 */
export async function applyTransitions(manager: EntityManager, transitions: DeliveryTransition[]): Promise<Set<string>> {
  const applied = new Set<string>();
  const first = engineOf(manager) === 'postgres' ? '(?, ?, ?, ?::int, ?::timestamptz, ?::timestamptz)' : '(?, ?, ?, ?, ?, ?)';
  for (const chunk of chunks(transitions)) {
    const rows = await queryRows<{ id: string }>(
      manager,
      `WITH "outcome" ("id", "leaseToken", "status", "attemptCount", "nextAttemptAt", "completedAt") AS (VALUES ${chunk.map((_, index) => (index === 0 ? first : '(?, ?, ?, ?, ?, ?)')).join(', ')})
       UPDATE "deliveries" SET "status" = "outcome"."status", "attemptCount" = "outcome"."attemptCount",
         "nextAttemptAt" = "outcome"."nextAttemptAt", "completedAt" = "outcome"."completedAt", "leaseOwner" = NULL, "leaseToken" = NULL
       FROM "outcome" WHERE "deliveries"."id" = "outcome"."id" AND "deliveries"."status" = ? AND "deliveries"."leaseToken" = "outcome"."leaseToken"
       RETURNING "deliveries"."id" AS "id"`,
      [
        ...chunk.flatMap((t) => [
          t.id,
          t.leaseToken,
          t.status,
          t.attemptCount,
          storedTime(manager, t.nextAttemptAt),
          storedTime(manager, t.completedAt),
        ]),
        PENDING,
      ],
    );
    for (const row of rows) applied.add(row.id);
  }
  return applied;
}

/** Counts a request made for a delivery that ended meanwhile (its webhook was deleted): still history. */
export async function countLateAttempt(manager: EntityManager, id: string, attemptCount: number): Promise<void> {
  const greatest = engineOf(manager) === 'postgres' ? 'GREATEST' : 'MAX';
  await queryRows(manager, `UPDATE "deliveries" SET "attemptCount" = ${greatest}("attemptCount", ?) WHERE "id" = ? AND "status" <> ?`, [
    attemptCount,
    id,
    PENDING,
  ]);
}

/** A success resets the webhooks' count of failures in a row (those already at 0 are not written). */
export async function clearConsecutiveFailures(manager: EntityManager, webhookIds: string[]): Promise<void> {
  for (const chunk of chunks(webhookIds)) {
    await queryRows(
      manager,
      `UPDATE "webhooks" SET "consecutiveFailures" = 0 WHERE "consecutiveFailures" <> 0 AND "id" IN (${placeholders(chunk.length)})`,
      chunk,
    );
  }
}

export interface AttemptRow {
  deliveryId: string;
  number: number;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
}

export async function insertAttempts(manager: EntityManager, attempts: AttemptRow[]): Promise<void> {
  for (const chunk of chunks(attempts)) {
    await queryRows(
      manager,
      `INSERT INTO "delivery_attempts" ("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error")
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flatMap((a) => [
        newId('att', a.startedAt.getTime()),
        a.deliveryId,
        a.number,
        storedTime(manager, a.startedAt),
        a.durationMs,
        a.responseStatus,
        a.responseBody,
        a.error,
      ]),
    );
  }
}

/** Ends the webhook's pending deliveries as FAILED (it is being deleted); returns them, as their updates. */
export function failPendingDeliveriesOf(manager: EntityManager, webhookId: string, now: Date): Promise<DeliveryUpdate[]> {
  return queryRows<DeliveryUpdate>(
    manager,
    `UPDATE "deliveries" SET "status" = ?, "nextAttemptAt" = NULL, "completedAt" = ?, "leaseOwner" = NULL, "leaseToken" = NULL
     WHERE "webhookId" = ? AND "status" = ?
     RETURNING "id", "accountId", "webhookId", "eventId", "status"`,
    [DeliveryStatus.FAILED, storedTime(manager, now), webhookId, PENDING],
  );
}
