import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for reading one webhook's delivery history without touching its rows: `Webhook.stats`
 * (counts by status since a time, durations of the attempts since then) and
 * `recoverFailedDeliveries` (its FAILED deliveries in creation order). Generated from the entities.
 */
export class DeliveryHistoryIndexes1796165237095 implements MigrationInterface {
  name = 'DeliveryHistoryIndexes1796165237095';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE INDEX "IDX_1445bc7cb3b66f4624e47b57bd" ON "deliveries" ("webhookId", "completedAt", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_ef44a356b395258fbefe36d071" ON "deliveries" ("webhookId", "status", "createdAt", "id") `);
    await queryRunner.query(`CREATE INDEX "IDX_477e62d87d71cf0a3c6dddf88b" ON "delivery_attempts" ("deliveryId", "startedAt", "durationMs") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_477e62d87d71cf0a3c6dddf88b"`);
    await queryRunner.query(`DROP INDEX "IDX_ef44a356b395258fbefe36d071"`);
    await queryRunner.query(`DROP INDEX "IDX_1445bc7cb3b66f4624e47b57bd"`);
  }
}
