import { DataSource, EntityManager } from 'typeorm';
import { engineOf } from '../db/engine';
import { announce, oncePerTransaction } from '../db/notify';
import { chunks, queryRows, storedTime } from '../db/raw-sql';
import { EventType } from '../events/event-type';

/** An event row as the feed reads it. */
export interface FeedEventRow {
  id: string;
  accountId: string;
  type: EventType;
  projectId: string;
  createdAt: string | Date;
  payload: string;
  position: number;
}

export interface FeedChangeRow {
  position: number;
  topic: string;
  body: string;
}

/**
 * Where the feed reads committed rows in commit order. Reading "above the last position seen"
 * misses nothing only if positions are taken in commit order: on SQLite one writer at a time makes
 * it so; on PostgreSQL every transaction that appends to the feed takes one lock first
 * (`lockFeedForAppend`), held until it commits, so a transaction cannot take a position until the one
 * before it has committed or rolled back, and a reader never moves past a transaction still running.
 */
export interface FeedSource {
  /** The highest positions committed now: a new reader starts there. */
  heads(): Promise<{ event: number; change: number }>;
  eventsAfter(position: number, limit: number): Promise<FeedEventRow[]>;
  changesAfter(position: number, limit: number): Promise<FeedChangeRow[]>;
}

/** The feed read through the app's reader connections (the same statements on both engines). */
export function databaseFeedSource(reader: () => DataSource): FeedSource {
  return {
    async heads() {
      const [row] = await queryRows<{ event: number | string; change: number | string }>(
        reader(),
        `SELECT (SELECT COALESCE(MAX("position"), 0) FROM "events") AS "event", (SELECT COALESCE(MAX("position"), 0) FROM "changes") AS "change"`,
      );
      return { event: Number(row.event), change: Number(row.change) };
    },
    eventsAfter(position, limit) {
      return queryRows(
        reader(),
        `SELECT "id", "accountId", "type", "projectId", "createdAt", "payload", "position" FROM "events"
         WHERE "position" > ? ORDER BY "position" LIMIT ?`,
        [position, limit],
      );
    },
    changesAfter(position, limit) {
      return queryRows(reader(), `SELECT "position", "topic", "body" FROM "changes" WHERE "position" > ? ORDER BY "position" LIMIT ?`, [
        position,
        limit,
      ]);
    },
  };
}

/** The advisory lock key of appends to the feed ("dfeed" in ASCII). */
const FEED_LOCK = 0x6466656564;

/**
 * Before a transaction appends to the feed: on PostgreSQL, waits for the feed's append lock (held
 * until this transaction ends, see `FeedSource`) and asks every process to read the feed once it
 * commits. On SQLite the transaction already holds the write lock.
 */
async function lockFeedForAppend(manager: EntityManager): Promise<void> {
  if (engineOf(manager) !== 'postgres') return;
  await oncePerTransaction(manager, 'feed-lock', () => manager.query(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`));
  await announce(manager, 'feed');
}

/** The next event positions for `count` events, taken inside the write transaction, in commit order (see `FeedSource`). */
export async function nextEventPositions(manager: EntityManager, count: number): Promise<number[]> {
  await lockFeedForAppend(manager);
  const [row] = await queryRows<{ head: number | string }>(manager, `SELECT COALESCE(MAX("position"), 0) AS "head" FROM "events"`);
  return Array.from({ length: count }, (_, index) => Number(row.head) + index + 1);
}

/** Appends changes to the feed in the caller's transaction. */
export async function insertChanges(manager: EntityManager, rows: Array<{ topic: string; body: string }>, now: Date): Promise<void> {
  if (rows.length === 0) return;
  await lockFeedForAppend(manager);
  for (const chunk of chunks(rows)) {
    await queryRows(
      manager,
      `INSERT INTO "changes" ("topic", "body", "createdAt") VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      chunk.flatMap((row) => [row.topic, row.body, storedTime(manager, now)]),
    );
  }
}

/** Drops changes at or below `position`: the feed is read live, never replayed from `changes`. */
export async function pruneChanges(manager: EntityManager, position: number): Promise<void> {
  await queryRows(manager, `DELETE FROM "changes" WHERE "position" <= ?`, [position]);
}
