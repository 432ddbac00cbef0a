import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole schema on PostgreSQL, as the SQLite migrations leave it at DatabaseQueue1796200000000
 * (dates are `timestamptz`). Generated from the entities; PostgreSQL's list of migrations starts here.
 */
export class PostgresInitial1796300000000 implements MigrationInterface {
  name = 'PostgresInitial1796300000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "accounts" ("id" character varying NOT NULL, "name" character varying NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5a7a02c20412299d198e097a8fe" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "name" character varying NOT NULL, "keyHash" character varying NOT NULL, "prefix" character varying NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "revokedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_5c8a79801b44bd27b79228e1dad" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_31433c6dc638df169b9d4e9aec" ON "api_keys" ("accountId")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_df3b25181df0b4b59bd93f16e1" ON "api_keys" ("keyHash")`);
    await queryRunner.query(
      `CREATE TABLE "projects" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "name" character varying NOT NULL, "description" character varying, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_6271df0a7aed1d6c0691ce6ac50" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_0f2011db892f7a9a15a485a46c" ON "projects" ("accountId", "createdAt")`);
    await queryRunner.query(
      `CREATE TABLE "builds" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "projectId" character varying NOT NULL, "version" character varying NOT NULL, "platform" character varying NOT NULL, "arch" character varying NOT NULL, "status" character varying NOT NULL, "artifactUrl" character varying, "error" character varying, "queuedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "startedAt" TIMESTAMP WITH TIME ZONE, "finishedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_c181c897db1d7b044faace6e86c" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_15a72e16019b3e5c8f2faed5d4" ON "builds" ("accountId")`);
    await queryRunner.query(`CREATE INDEX "IDX_e9d5514b04f2da05110ef82327" ON "builds" ("projectId", "queuedAt")`);
    await queryRunner.query(
      `CREATE TABLE "events" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "type" character varying NOT NULL, "projectId" character varying NOT NULL, "buildId" character varying, "payload" text NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "position" integer, "test" boolean NOT NULL DEFAULT false, CONSTRAINT "PK_40731c7151fe4be3116e45ddf73" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_events_account_position" ON "events" ("accountId", "position")`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_events_position" ON "events" ("position")`);
    await queryRunner.query(`CREATE INDEX "IDX_4daee4bf1d0ba2efbf7b493d7d" ON "events" ("accountId", "projectId", "createdAt")`);
    await queryRunner.query(`CREATE INDEX "IDX_6864a353e365369adfc630eae2" ON "events" ("accountId", "createdAt")`);
    await queryRunner.query(
      `CREATE TABLE "deliveries" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "webhookId" character varying NOT NULL, "eventId" character varying NOT NULL, "status" character varying NOT NULL, "attemptCount" integer NOT NULL DEFAULT '0', "nextAttemptAt" TIMESTAMP WITH TIME ZONE, "leaseOwner" character varying, "leaseToken" character varying, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "completedAt" TIMESTAMP WITH TIME ZONE, CONSTRAINT "PK_a6ef225c5c5f0974e503bfb731f" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_deliveries_due_by_webhook" ON "deliveries" ("webhookId", "status", "nextAttemptAt")`);
    await queryRunner.query(`CREATE INDEX "IDX_194bed6516205136efad113ff1" ON "deliveries" ("eventId")`);
    await queryRunner.query(
      `CREATE INDEX "IDX_6f86245ed3f4f57b1239b38efe" ON "deliveries" ("webhookId", "createdAt", "status", "completedAt", "id")`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_37d639b2c495ecff1bba761b03" ON "deliveries" ("accountId", "createdAt")`);
    await queryRunner.query(
      `CREATE TABLE "delivery_attempts" ("id" character varying NOT NULL, "deliveryId" character varying NOT NULL, "number" integer NOT NULL, "startedAt" TIMESTAMP WITH TIME ZONE NOT NULL, "durationMs" integer NOT NULL, "responseStatus" integer, "responseBody" text, "error" character varying, CONSTRAINT "PK_41eba4eb5401d72860f7cd9a7ac" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_477e62d87d71cf0a3c6dddf88b" ON "delivery_attempts" ("deliveryId", "startedAt", "durationMs")`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_67d546d3fbad8e068bcae96a51" ON "delivery_attempts" ("deliveryId", "number")`);
    await queryRunner.query(
      `CREATE TABLE "changes" ("position" SERIAL NOT NULL, "topic" character varying NOT NULL, "body" text NOT NULL, "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_bf8d984194ff348e0204d731bf2" PRIMARY KEY ("position"))`,
    );
    await queryRunner.query(
      `CREATE TABLE "webhooks" ("id" character varying NOT NULL, "accountId" character varying NOT NULL, "url" character varying(2048) NOT NULL, "events" character varying NOT NULL, "active" boolean NOT NULL DEFAULT true, "description" character varying, "secret" character varying NOT NULL, "previousSecret" character varying, "previousSecretExpiresAt" TIMESTAMP WITH TIME ZONE, "disabledReason" character varying, "consecutiveFailures" integer NOT NULL DEFAULT '0', "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL, "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_9e8795cfc899ab7bdaa831e8527" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_e1c8bb5883e15ebdb9338c5bae" ON "webhooks" ("accountId", "createdAt")`);
    await queryRunner.query(
      `ALTER TABLE "builds" ADD CONSTRAINT "FK_3b3fa0995bf8a730265411ca6ca" FOREIGN KEY ("projectId") REFERENCES "projects"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "deliveries" ADD CONSTRAINT "FK_194bed6516205136efad113ff1c" FOREIGN KEY ("eventId") REFERENCES "events"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "delivery_attempts" ADD CONSTRAINT "FK_2194b848e0df2f14ccf528e8217" FOREIGN KEY ("deliveryId") REFERENCES "deliveries"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "delivery_attempts" DROP CONSTRAINT "FK_2194b848e0df2f14ccf528e8217"`);
    await queryRunner.query(`ALTER TABLE "deliveries" DROP CONSTRAINT "FK_194bed6516205136efad113ff1c"`);
    await queryRunner.query(`ALTER TABLE "builds" DROP CONSTRAINT "FK_3b3fa0995bf8a730265411ca6ca"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_e1c8bb5883e15ebdb9338c5bae"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
    await queryRunner.query(`DROP TABLE "changes"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_67d546d3fbad8e068bcae96a51"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_477e62d87d71cf0a3c6dddf88b"`);
    await queryRunner.query(`DROP TABLE "delivery_attempts"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_37d639b2c495ecff1bba761b03"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_6f86245ed3f4f57b1239b38efe"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_194bed6516205136efad113ff1"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_deliveries_due_by_webhook"`);
    await queryRunner.query(`DROP TABLE "deliveries"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_6864a353e365369adfc630eae2"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_4daee4bf1d0ba2efbf7b493d7d"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_events_position"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_events_account_position"`);
    await queryRunner.query(`DROP TABLE "events"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_e9d5514b04f2da05110ef82327"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_15a72e16019b3e5c8f2faed5d4"`);
    await queryRunner.query(`DROP TABLE "builds"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_0f2011db892f7a9a15a485a46c"`);
    await queryRunner.query(`DROP TABLE "projects"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_df3b25181df0b4b59bd93f16e1"`);
    await queryRunner.query(`DROP INDEX "public"."IDX_31433c6dc638df169b9d4e9aec"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP TABLE "accounts"`);
  }
}
