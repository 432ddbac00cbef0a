import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';

export interface BacklogShape {
  /** Events stored, each with one PENDING delivery per webhook. */
  events: number;
  /** Webhook URLs of one account (all subscribed to `project.created`). */
  urls: string[];
  /** The account that owns them (create it first, e.g. with the account CLI). */
  accountId: string;
}

/**
 * Stores `events × urls` PENDING deliveries, all due now, straight into the SQLite file (generated
 * by SQLite itself, a few seconds for a million): the state a service finds after an endpoint was
 * down for a day. Run it while no service has the file open.
 */
export async function seedBacklog(databasePath: string, shape: BacklogShape): Promise<number> {
  const db = await openDatabase(databasePath, appDatabaseSchema);
  try {
    await db.writes.write(async ({ manager }) => {
      for (const [index, url] of shape.urls.entries()) {
        await manager.query(
          `INSERT INTO "webhooks" ("id", "accountId", "url", "events", "active", "secret", "consecutiveFailures", "createdAt", "updatedAt")
           VALUES (?, ?, ?, 'project.created', 1, 'backlog-secret-0123456789', 0, strftime('%Y-%m-%d %H:%M:%f', 'now'), strftime('%Y-%m-%d %H:%M:%f', 'now'))`,
          [`wh_backlog${String(index).padStart(4, '0')}`, shape.accountId, url],
        );
      }
      await manager.query(
        `WITH RECURSIVE "n" ("i") AS (SELECT 1 UNION ALL SELECT "i" + 1 FROM "n" WHERE "i" < ?)
         INSERT INTO "events" ("id", "accountId", "type", "projectId", "payload", "createdAt", "test", "position")
         SELECT printf('evt_backlog%010d', "i"), ?, 'project.created', 'proj_backlog',
           printf('{"id":"evt_backlog%010d","type":"project.created","createdAt":"2026-01-01T00:00:00.000Z","data":{"project":{"id":"proj_backlog","name":"Backlog %d"}}}', "i", "i"),
           strftime('%Y-%m-%d %H:%M:%f', 'now'), 0, "i" FROM "n"`,
        [shape.events, shape.accountId],
      );
      await manager.query(
        `INSERT INTO "deliveries" ("id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt")
         SELECT 'dlv_' || substr("w"."id", 4) || substr("e"."id", 4), "w"."accountId", "w"."id", "e"."id", 'pending', 0, "e"."createdAt", "e"."createdAt"
         FROM "events" "e" CROSS JOIN "webhooks" "w" WHERE "w"."id" LIKE 'wh_backlog%' AND "e"."id" LIKE 'evt_backlog%'`,
      );
    });
    const [{ pending }] = await db.reader.query(`SELECT count(*) AS "pending" FROM "deliveries" WHERE "status" = 'pending'`);
    return Number(pending);
  } finally {
    await db.close();
  }
}
