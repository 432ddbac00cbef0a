import sqlite3 from 'sqlite3';
import { DataSourceOptions } from 'typeorm';

/**
 * The sqlite3 module as TypeORM's driver, minus the verbose mode TypeORM switches on: verbose wraps
 * every statement to capture a stack trace, a cost on every query for a debugging aid we do not use.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3), { verbose: () => sqlite3 });

/** What a database holds: the entity classes and the migrations that build their tables, oldest first. */
export interface DatabaseSchema {
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: NonNullable<DataSourceOptions['migrations']>;
}

/**
 * The TypeORM options shared by the app, the account CLI and the TypeORM CLI. Schema changes are
 * migrations only (`synchronize` off); WAL lets readers proceed while a write commits.
 */
export function dataSourceOptions(databasePath: string, schema: DatabaseSchema): DataSourceOptions {
  return {
    type: 'sqlite',
    driver: quietSqlite3,
    database: databasePath,
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: databasePath !== ':memory:',
    busyTimeout: 5000,
    logging: false,
  };
}
