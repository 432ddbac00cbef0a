import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The database becomes the delivery queue and the feed of committed changes (issue 11):
 * - `deliveries.leaseOwner` / `leaseToken`: the worker attempting a delivery; while leased,
 *   `nextAttemptAt` is the lease's expiry, so an expired lease is simply a due delivery again.
 *   Claims look deliveries up per webhook (`webhookId, status, nextAttemptAt`), so the old
 *   `(status, nextAttemptAt)` index, read only by the in-memory dispatcher's start, goes: it cost an
 *   index update on every claim and every outcome.
 * - `events.position`: the event's place in commit order (null for `testWebhook` samples, which are
 *   never published); existing events take their rowid, which is their insertion (= commit) order.
 * - `changes`: delivery outcomes, webhook changes and key revocations, in commit order, for every
 *   process's subscribers and caches.
 * Written by hand as ADD COLUMN and CREATE statements, so upgrading never copies a table.
 */
export class DatabaseQueue1796200000000 implements MigrationInterface {
  name = 'DatabaseQueue1796200000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "deliveries" ADD COLUMN "leaseOwner" varchar`);
    await queryRunner.query(`ALTER TABLE "deliveries" ADD COLUMN "leaseToken" varchar`);
    await queryRunner.query(`CREATE INDEX "IDX_deliveries_due_by_webhook" ON "deliveries" ("webhookId", "status", "nextAttemptAt") `);
    await queryRunner.query(`DROP INDEX "IDX_9ff3115a48dde36c703671bfc9"`);
    await queryRunner.query(`ALTER TABLE "events" ADD COLUMN "position" integer`);
    await queryRunner.query(`UPDATE "events" SET "position" = rowid WHERE "test" = 0`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_events_position" ON "events" ("position") `);
    await queryRunner.query(`CREATE INDEX "IDX_events_account_position" ON "events" ("accountId", "position") `);
    await queryRunner.query(
      `CREATE TABLE "changes" ("position" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "topic" varchar NOT NULL, "body" text NOT NULL, "createdAt" datetime NOT NULL)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "changes"`);
    await queryRunner.query(`DROP INDEX "IDX_events_account_position"`);
    await queryRunner.query(`DROP INDEX "IDX_events_position"`);
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "position"`);
    await queryRunner.query(`CREATE INDEX "IDX_9ff3115a48dde36c703671bfc9" ON "deliveries" ("status", "nextAttemptAt") `);
    await queryRunner.query(`DROP INDEX "IDX_deliveries_due_by_webhook"`);
    await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "leaseToken"`);
    await queryRunner.query(`ALTER TABLE "deliveries" DROP COLUMN "leaseOwner"`);
  }
}
