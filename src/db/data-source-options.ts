import sqlite3 from 'sqlite3';
import { DataSourceOptions, getMetadataArgsStorage } from 'typeorm';
import { Engine, isPostgresUrl } from './engine';

/**
 * The sqlite3 module as TypeORM's driver, minus the verbose mode TypeORM switches on: verbose wraps
 * every statement to capture a stack trace, a cost on every query for a debugging aid we do not use.
 */
const quietSqlite3 = Object.assign(Object.create(sqlite3), { verbose: () => sqlite3 });

type Migrations = NonNullable<DataSourceOptions['migrations']>;

/**
 * What a database holds: the entity classes and, per engine, the migrations that build their
 * tables, oldest first (generated migrations are engine-specific SQL).
 */
export interface DatabaseSchema {
  entities: NonNullable<DataSourceOptions['entities']>;
  migrations: Migrations;
  postgresMigrations?: Migrations;
}

/** Connections a PostgreSQL process keeps: its writes run one transaction at a time, reads beside them. */
export const POSTGRES_POOL_SIZE = 10;

/**
 * The TypeORM options shared by the app, the account CLI and the TypeORM CLI, for a SQLite file path
 * or a `postgres://` URL. Schema changes are migrations only (`synchronize` off); on SQLite, WAL lets
 * readers proceed while a write commits.
 */
export function dataSourceOptions(location: string, schema: DatabaseSchema): DataSourceOptions {
  if (isPostgresUrl(location)) {
    return {
      type: 'postgres',
      url: location,
      entities: schema.entities,
      migrations: schema.postgresMigrations ?? [],
      migrationsRun: false,
      synchronize: false,
      logging: false,
      poolSize: POSTGRES_POOL_SIZE,
      // A server that does not answer fails a connection in seconds, not at the OS's TCP timeout.
      connectTimeoutMS: 5_000,
      extra: { keepAlive: true },
    };
  }
  return {
    type: 'sqlite',
    driver: quietSqlite3,
    database: location,
    entities: schema.entities,
    migrations: schema.migrations,
    migrationsRun: false,
    synchronize: false,
    enableWAL: location !== ':memory:',
    busyTimeout: 5000,
    logging: false,
  };
}

/**
 * The column type of the entities' dates on each engine. Entities declare `datetime` (SQLite's
 * name); PostgreSQL has no such type and TypeORM takes one type for every driver, so a PostgreSQL
 * data source is built while those columns say `timestamp with time zone` (see `withEngineColumnTypes`).
 */
const DATE_TYPE: Record<Engine, string> = { sqlite: 'datetime', postgres: 'timestamp with time zone' };

let building: Promise<unknown> = Promise.resolve();

/**
 * Runs `build` (a data source's `initialize()`, which reads the entity decorators' arguments into
 * that data source's own metadata) with the date columns typed for `engine`, then puts the
 * decorators' `datetime` back. Builds take turns, so two engines never see each other's types.
 */
export function withEngineColumnTypes<T>(engine: Engine, build: () => Promise<T>): Promise<T> {
  const run = building.then(async () => {
    if (engine === 'sqlite') return build();
    const dateColumns = getMetadataArgsStorage().columns.filter((column) => column.options.type === DATE_TYPE.sqlite);
    for (const column of dateColumns) column.options.type = DATE_TYPE.postgres as never;
    try {
      return await build();
    } finally {
      for (const column of dateColumns) column.options.type = DATE_TYPE.sqlite as never;
    }
  });
  building = run.catch(() => undefined);
  return run;
}
