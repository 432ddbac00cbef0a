import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for reading one webhook's delivery history without touching its rows: `Webhook.stats`
 * (counts by status since a time, the attempts since then and their durations) and
 * `recoverFailedDeliveries` (its FAILED deliveries in creation order).
 *
 * The webhook's (webhookId, createdAt) index is widened rather than joined by new ones: every
 * index on `deliveries` is written on each delivery's insert and status change, and two separate
 * indexes for these reads cost about a third more SQLite CPU on that write path (measured on the
 * outbox and recorder statements), the widened one next to nothing. Generated from the entities.
 */
export class DeliveryHistoryIndexes1796165237095 implements MigrationInterface {
  name = 'DeliveryHistoryIndexes1796165237095';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_a39dad474a94fea8f799f603da"`);
    await queryRunner.query(
      `CREATE INDEX "IDX_6f86245ed3f4f57b1239b38efe" ON "deliveries" ("webhookId", "createdAt", "status", "completedAt", "id") `,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_477e62d87d71cf0a3c6dddf88b" ON "delivery_attempts" ("deliveryId", "startedAt", "durationMs") `,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_477e62d87d71cf0a3c6dddf88b"`);
    await queryRunner.query(`DROP INDEX "IDX_6f86245ed3f4f57b1239b38efe"`);
    await queryRunner.query(`CREATE INDEX "IDX_a39dad474a94fea8f799f603da" ON "deliveries" ("webhookId", "createdAt") `);
  }
}
