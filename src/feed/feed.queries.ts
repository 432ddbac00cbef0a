import { DataSource, EntityManager } from 'typeorm';
import { chunks, queryRows, storedDatetime } from '../db/raw-sql';
import { EventType } from '../events/event-type';

/** An event row as the feed reads it. */
export interface FeedEventRow {
  id: string;
  accountId: string;
  type: EventType;
  projectId: string;
  createdAt: string;
  payload: string;
  position: number;
}

export interface FeedChangeRow {
  position: number;
  topic: string;
  body: string;
}

/**
 * Where the feed reads committed rows in commit order. On SQLite one writer at a time makes
 * position order commit order, so reading "above the last position seen" misses nothing; another
 * engine supplies its own source (PostgreSQL must stop below the oldest transaction still running).
 */
export interface FeedSource {
  /** The highest positions committed now: a new reader starts there. */
  heads(): Promise<{ event: number; change: number }>;
  eventsAfter(position: number, limit: number): Promise<FeedEventRow[]>;
  changesAfter(position: number, limit: number): Promise<FeedChangeRow[]>;
}

/** The SQLite `FeedSource`, reading through the app's reader connections. */
export function sqliteFeedSource(reader: () => DataSource): FeedSource {
  return {
    async heads() {
      const [row] = (await reader().query(
        `SELECT (SELECT COALESCE(MAX("position"), 0) FROM "events") AS "event", (SELECT COALESCE(MAX("position"), 0) FROM "changes") AS "change"`,
      )) as Array<{ event: number; change: number }>;
      return { event: Number(row.event), change: Number(row.change) };
    },
    eventsAfter(position, limit) {
      return reader().query(
        `SELECT "id", "accountId", "type", "projectId", "createdAt", "payload", "position" FROM "events"
         WHERE "position" > ? ORDER BY "position" LIMIT ?`,
        [position, limit],
      );
    },
    changesAfter(position, limit) {
      return reader().query(`SELECT "position", "topic", "body" FROM "changes" WHERE "position" > ? ORDER BY "position" LIMIT ?`, [position, limit]);
    },
  };
}

/**
 * The next event positions for `count` events, taken inside the write transaction (which holds
 * SQLite's write lock from its first statement, see `WriteSerializer`), so positions follow commit order.
 */
export async function nextEventPositions(manager: EntityManager, count: number): Promise<number[]> {
  const [row] = await queryRows<{ head: number }>(manager, `SELECT COALESCE(MAX("position"), 0) AS "head" FROM "events"`);
  return Array.from({ length: count }, (_, index) => Number(row.head) + index + 1);
}

/** Appends changes to the feed in the caller's transaction. */
export async function insertChanges(manager: EntityManager, rows: Array<{ topic: string; body: string }>, now: Date): Promise<void> {
  for (const chunk of chunks(rows)) {
    await queryRows(
      manager,
      `INSERT INTO "changes" ("topic", "body", "createdAt") VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')}`,
      chunk.flatMap((row) => [row.topic, row.body, storedDatetime(now)]),
    );
  }
}

/** Drops changes at or below `position`: the feed is read live, never replayed from `changes`. */
export async function pruneChanges(manager: EntityManager, position: number): Promise<void> {
  await manager.query(`DELETE FROM "changes" WHERE "position" <= ?`, [position]);
}
