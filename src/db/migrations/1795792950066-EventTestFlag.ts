import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * `events.test` marks the samples of `testWebhook`. Written by hand as one ADD COLUMN instead of the
 * generated rebuild of `events`, so upgrading never copies the event log; `migration:generate` finds
 * no difference from the entities afterwards.
 */
export class EventTestFlag1795792950066 implements MigrationInterface {
  name = 'EventTestFlag1795792950066';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" ADD COLUMN "test" boolean NOT NULL DEFAULT (0)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "events" DROP COLUMN "test"`);
  }
}
