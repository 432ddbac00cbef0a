import { MigrationInterface, QueryRunner } from 'typeorm';

export class Initial1795792533810 implements MigrationInterface {
  name = 'Initial1795792533810';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "accounts" ("id" varchar PRIMARY KEY NOT NULL, "name" varchar NOT NULL, "createdAt" datetime NOT NULL)`,
    );
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "name" varchar NOT NULL, "keyHash" varchar NOT NULL, "prefix" varchar NOT NULL, "createdAt" datetime NOT NULL, "revokedAt" datetime)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_31433c6dc638df169b9d4e9aec" ON "api_keys" ("accountId") `);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_df3b25181df0b4b59bd93f16e1" ON "api_keys" ("keyHash") `);
    await queryRunner.query(
      `CREATE TABLE "projects" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "name" varchar NOT NULL, "description" varchar, "createdAt" datetime NOT NULL, "updatedAt" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_0f2011db892f7a9a15a485a46c" ON "projects" ("accountId", "createdAt") `);
    await queryRunner.query(
      `CREATE TABLE "builds" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "projectId" varchar NOT NULL, "version" varchar NOT NULL, "platform" varchar NOT NULL, "arch" varchar NOT NULL, "status" varchar NOT NULL, "artifactUrl" varchar, "error" varchar, "queuedAt" datetime NOT NULL, "startedAt" datetime, "finishedAt" datetime)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_15a72e16019b3e5c8f2faed5d4" ON "builds" ("accountId") `);
    await queryRunner.query(`CREATE INDEX "IDX_e9d5514b04f2da05110ef82327" ON "builds" ("projectId", "queuedAt") `);
    await queryRunner.query(
      `CREATE TABLE "events" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "type" varchar NOT NULL, "projectId" varchar NOT NULL, "buildId" varchar, "payload" text NOT NULL, "createdAt" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_4daee4bf1d0ba2efbf7b493d7d" ON "events" ("accountId", "projectId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_6864a353e365369adfc630eae2" ON "events" ("accountId", "createdAt") `);
    await queryRunner.query(
      `CREATE TABLE "deliveries" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "webhookId" varchar NOT NULL, "eventId" varchar NOT NULL, "status" varchar NOT NULL, "attemptCount" integer NOT NULL DEFAULT (0), "nextAttemptAt" datetime, "createdAt" datetime NOT NULL, "completedAt" datetime)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_9ff3115a48dde36c703671bfc9" ON "deliveries" ("status", "nextAttemptAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_194bed6516205136efad113ff1" ON "deliveries" ("eventId") `);
    await queryRunner.query(`CREATE INDEX "IDX_a39dad474a94fea8f799f603da" ON "deliveries" ("webhookId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_37d639b2c495ecff1bba761b03" ON "deliveries" ("accountId", "createdAt") `);
    await queryRunner.query(
      `CREATE TABLE "delivery_attempts" ("id" varchar PRIMARY KEY NOT NULL, "deliveryId" varchar NOT NULL, "number" integer NOT NULL, "startedAt" datetime NOT NULL, "durationMs" integer NOT NULL, "responseStatus" integer, "responseBody" text, "error" varchar)`,
    );
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_67d546d3fbad8e068bcae96a51" ON "delivery_attempts" ("deliveryId", "number") `);
    await queryRunner.query(
      `CREATE TABLE "webhooks" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "url" varchar(2048) NOT NULL, "events" varchar NOT NULL, "active" boolean NOT NULL DEFAULT (1), "description" varchar, "secret" varchar NOT NULL, "previousSecret" varchar, "previousSecretExpiresAt" datetime, "disabledReason" varchar, "consecutiveFailures" integer NOT NULL DEFAULT (0), "createdAt" datetime NOT NULL, "updatedAt" datetime NOT NULL)`,
    );
    await queryRunner.query(`CREATE INDEX "IDX_e1c8bb5883e15ebdb9338c5bae" ON "webhooks" ("accountId", "createdAt") `);
    await queryRunner.query(`DROP INDEX "IDX_15a72e16019b3e5c8f2faed5d4"`);
    await queryRunner.query(`DROP INDEX "IDX_e9d5514b04f2da05110ef82327"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_builds" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "projectId" varchar NOT NULL, "version" varchar NOT NULL, "platform" varchar NOT NULL, "arch" varchar NOT NULL, "status" varchar NOT NULL, "artifactUrl" varchar, "error" varchar, "queuedAt" datetime NOT NULL, "startedAt" datetime, "finishedAt" datetime, CONSTRAINT "FK_3b3fa0995bf8a730265411ca6ca" FOREIGN KEY ("projectId") REFERENCES "projects" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_builds"("id", "accountId", "projectId", "version", "platform", "arch", "status", "artifactUrl", "error", "queuedAt", "startedAt", "finishedAt") SELECT "id", "accountId", "projectId", "version", "platform", "arch", "status", "artifactUrl", "error", "queuedAt", "startedAt", "finishedAt" FROM "builds"`,
    );
    await queryRunner.query(`DROP TABLE "builds"`);
    await queryRunner.query(`ALTER TABLE "temporary_builds" RENAME TO "builds"`);
    await queryRunner.query(`CREATE INDEX "IDX_15a72e16019b3e5c8f2faed5d4" ON "builds" ("accountId") `);
    await queryRunner.query(`CREATE INDEX "IDX_e9d5514b04f2da05110ef82327" ON "builds" ("projectId", "queuedAt") `);
    await queryRunner.query(`DROP INDEX "IDX_9ff3115a48dde36c703671bfc9"`);
    await queryRunner.query(`DROP INDEX "IDX_194bed6516205136efad113ff1"`);
    await queryRunner.query(`DROP INDEX "IDX_a39dad474a94fea8f799f603da"`);
    await queryRunner.query(`DROP INDEX "IDX_37d639b2c495ecff1bba761b03"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_deliveries" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "webhookId" varchar NOT NULL, "eventId" varchar NOT NULL, "status" varchar NOT NULL, "attemptCount" integer NOT NULL DEFAULT (0), "nextAttemptAt" datetime, "createdAt" datetime NOT NULL, "completedAt" datetime, CONSTRAINT "FK_194bed6516205136efad113ff1c" FOREIGN KEY ("eventId") REFERENCES "events" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_deliveries"("id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt") SELECT "id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt" FROM "deliveries"`,
    );
    await queryRunner.query(`DROP TABLE "deliveries"`);
    await queryRunner.query(`ALTER TABLE "temporary_deliveries" RENAME TO "deliveries"`);
    await queryRunner.query(`CREATE INDEX "IDX_9ff3115a48dde36c703671bfc9" ON "deliveries" ("status", "nextAttemptAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_194bed6516205136efad113ff1" ON "deliveries" ("eventId") `);
    await queryRunner.query(`CREATE INDEX "IDX_a39dad474a94fea8f799f603da" ON "deliveries" ("webhookId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_37d639b2c495ecff1bba761b03" ON "deliveries" ("accountId", "createdAt") `);
    await queryRunner.query(`DROP INDEX "IDX_67d546d3fbad8e068bcae96a51"`);
    await queryRunner.query(
      `CREATE TABLE "temporary_delivery_attempts" ("id" varchar PRIMARY KEY NOT NULL, "deliveryId" varchar NOT NULL, "number" integer NOT NULL, "startedAt" datetime NOT NULL, "durationMs" integer NOT NULL, "responseStatus" integer, "responseBody" text, "error" varchar, CONSTRAINT "FK_2194b848e0df2f14ccf528e8217" FOREIGN KEY ("deliveryId") REFERENCES "deliveries" ("id") ON DELETE CASCADE ON UPDATE NO ACTION)`,
    );
    await queryRunner.query(
      `INSERT INTO "temporary_delivery_attempts"("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error") SELECT "id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error" FROM "delivery_attempts"`,
    );
    await queryRunner.query(`DROP TABLE "delivery_attempts"`);
    await queryRunner.query(`ALTER TABLE "temporary_delivery_attempts" RENAME TO "delivery_attempts"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_67d546d3fbad8e068bcae96a51" ON "delivery_attempts" ("deliveryId", "number") `);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_67d546d3fbad8e068bcae96a51"`);
    await queryRunner.query(`ALTER TABLE "delivery_attempts" RENAME TO "temporary_delivery_attempts"`);
    await queryRunner.query(
      `CREATE TABLE "delivery_attempts" ("id" varchar PRIMARY KEY NOT NULL, "deliveryId" varchar NOT NULL, "number" integer NOT NULL, "startedAt" datetime NOT NULL, "durationMs" integer NOT NULL, "responseStatus" integer, "responseBody" text, "error" varchar)`,
    );
    await queryRunner.query(
      `INSERT INTO "delivery_attempts"("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error") SELECT "id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error" FROM "temporary_delivery_attempts"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_delivery_attempts"`);
    await queryRunner.query(`CREATE UNIQUE INDEX "IDX_67d546d3fbad8e068bcae96a51" ON "delivery_attempts" ("deliveryId", "number") `);
    await queryRunner.query(`DROP INDEX "IDX_37d639b2c495ecff1bba761b03"`);
    await queryRunner.query(`DROP INDEX "IDX_a39dad474a94fea8f799f603da"`);
    await queryRunner.query(`DROP INDEX "IDX_194bed6516205136efad113ff1"`);
    await queryRunner.query(`DROP INDEX "IDX_9ff3115a48dde36c703671bfc9"`);
    await queryRunner.query(`ALTER TABLE "deliveries" RENAME TO "temporary_deliveries"`);
    await queryRunner.query(
      `CREATE TABLE "deliveries" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "webhookId" varchar NOT NULL, "eventId" varchar NOT NULL, "status" varchar NOT NULL, "attemptCount" integer NOT NULL DEFAULT (0), "nextAttemptAt" datetime, "createdAt" datetime NOT NULL, "completedAt" datetime)`,
    );
    await queryRunner.query(
      `INSERT INTO "deliveries"("id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt") SELECT "id", "accountId", "webhookId", "eventId", "status", "attemptCount", "nextAttemptAt", "createdAt", "completedAt" FROM "temporary_deliveries"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_deliveries"`);
    await queryRunner.query(`CREATE INDEX "IDX_37d639b2c495ecff1bba761b03" ON "deliveries" ("accountId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_a39dad474a94fea8f799f603da" ON "deliveries" ("webhookId", "createdAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_194bed6516205136efad113ff1" ON "deliveries" ("eventId") `);
    await queryRunner.query(`CREATE INDEX "IDX_9ff3115a48dde36c703671bfc9" ON "deliveries" ("status", "nextAttemptAt") `);
    await queryRunner.query(`DROP INDEX "IDX_e9d5514b04f2da05110ef82327"`);
    await queryRunner.query(`DROP INDEX "IDX_15a72e16019b3e5c8f2faed5d4"`);
    await queryRunner.query(`ALTER TABLE "builds" RENAME TO "temporary_builds"`);
    await queryRunner.query(
      `CREATE TABLE "builds" ("id" varchar PRIMARY KEY NOT NULL, "accountId" varchar NOT NULL, "projectId" varchar NOT NULL, "version" varchar NOT NULL, "platform" varchar NOT NULL, "arch" varchar NOT NULL, "status" varchar NOT NULL, "artifactUrl" varchar, "error" varchar, "queuedAt" datetime NOT NULL, "startedAt" datetime, "finishedAt" datetime)`,
    );
    await queryRunner.query(
      `INSERT INTO "builds"("id", "accountId", "projectId", "version", "platform", "arch", "status", "artifactUrl", "error", "queuedAt", "startedAt", "finishedAt") SELECT "id", "accountId", "projectId", "version", "platform", "arch", "status", "artifactUrl", "error", "queuedAt", "startedAt", "finishedAt" FROM "temporary_builds"`,
    );
    await queryRunner.query(`DROP TABLE "temporary_builds"`);
    await queryRunner.query(`CREATE INDEX "IDX_e9d5514b04f2da05110ef82327" ON "builds" ("projectId", "queuedAt") `);
    await queryRunner.query(`CREATE INDEX "IDX_15a72e16019b3e5c8f2faed5d4" ON "builds" ("accountId") `);
    await queryRunner.query(`DROP INDEX "IDX_e1c8bb5883e15ebdb9338c5bae"`);
    await queryRunner.query(`DROP TABLE "webhooks"`);
    await queryRunner.query(`DROP INDEX "IDX_67d546d3fbad8e068bcae96a51"`);
    await queryRunner.query(`DROP TABLE "delivery_attempts"`);
    await queryRunner.query(`DROP INDEX "IDX_37d639b2c495ecff1bba761b03"`);
    await queryRunner.query(`DROP INDEX "IDX_a39dad474a94fea8f799f603da"`);
    await queryRunner.query(`DROP INDEX "IDX_194bed6516205136efad113ff1"`);
    await queryRunner.query(`DROP INDEX "IDX_9ff3115a48dde36c703671bfc9"`);
    await queryRunner.query(`DROP TABLE "deliveries"`);
    await queryRunner.query(`DROP INDEX "IDX_6864a353e365369adfc630eae2"`);
    await queryRunner.query(`DROP INDEX "IDX_4daee4bf1d0ba2efbf7b493d7d"`);
    await queryRunner.query(`DROP TABLE "events"`);
    await queryRunner.query(`DROP INDEX "IDX_e9d5514b04f2da05110ef82327"`);
    await queryRunner.query(`DROP INDEX "IDX_15a72e16019b3e5c8f2faed5d4"`);
    await queryRunner.query(`DROP TABLE "builds"`);
    await queryRunner.query(`DROP INDEX "IDX_0f2011db892f7a9a15a485a46c"`);
    await queryRunner.query(`DROP TABLE "projects"`);
    await queryRunner.query(`DROP INDEX "IDX_df3b25181df0b4b59bd93f16e1"`);
    await queryRunner.query(`DROP INDEX "IDX_31433c6dc638df169b9d4e9aec"`);
    await queryRunner.query(`DROP TABLE "api_keys"`);
    await queryRunner.query(`DROP TABLE "accounts"`);
  }
}
