import 'reflect-metadata';
import sqlite3 from 'sqlite3';
import { DataSource, DataSourceOptions } from 'typeorm';
import { Account } from './src/accounts/account.entity';
import { ApiKey } from './src/accounts/api-key.entity';
import { Build } from './src/builds/build.entity';
import { loadConfig } from './src/config';
import { migrations } from './src/db/migrations';
import { DeliveryAttempt } from './src/delivery/delivery-attempt.entity';
import { Delivery } from './src/delivery/delivery.entity';
import { Event } from './src/events/event.entity';
import { Project } from './src/projects/project.entity';
import { Webhook } from './src/webhooks/webhook.entity';

/**
 * The sqlite3 module as TypeORM's driver, minus the verbose mode TypeORM switches on: verbose wraps
 * every statement to capture a stack trace, a cost on every query for a debugging aid we do not use.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3), { verbose: () => sqlite3 });

export const entities = [Account, ApiKey, Webhook, Project, Build, Event, Delivery, DeliveryAttempt];

/**
 * The TypeORM options shared by the app, the account CLI and the TypeORM CLI. Schema changes are
 * migrations only (`synchronize` off); WAL lets readers proceed while a write commits.
 */
export function dataSourceOptions(databasePath: string): DataSourceOptions {
  return {
    type: 'sqlite',
    driver: quietSqlite3,
    database: databasePath,
    entities,
    migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: databasePath !== ':memory:',
    busyTimeout: 5000,
    logging: false,
  };
}

/** For the TypeORM CLI: `npx typeorm -d dist/ormconfig.js migration:generate …`. */
export default new DataSource(dataSourceOptions(loadConfig().databasePath));
