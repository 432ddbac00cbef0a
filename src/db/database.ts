import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../ormconfig';
import { WriteSerializer } from './write-serializer';

export interface Database {
  /** The writing connection. Write only through `writes`; it also runs the migrations. */
  dataSource: DataSource;
  /**
   * A second connection for reads. SQLite in WAL mode gives it the last committed snapshot, so a
   * query never sees another request's uncommitted (perhaps later rolled back) rows, and reads run
   * beside writes. For `:memory:` it is the writing connection (a second one would be another database).
   */
  reader: DataSource;
  /** The only way to write: see `WriteSerializer`. */
  writes: WriteSerializer;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Opens the SQLite file (creating its folder) and brings its schema up to date with the migrations. */
export async function openDatabase(
  databasePath: string,
  onEffectError?: (error: unknown) => void,
): Promise<Database> {
  const inMemory = databasePath === ':memory:';
  if (!inMemory) mkdirSync(dirname(databasePath), { recursive: true });
  const dataSource = new DataSource(dataSourceOptions(databasePath));
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  const reader = inMemory ? dataSource : await new DataSource({ ...dataSourceOptions(databasePath), migrations: [] }).initialize();
  for (const connection of new Set([dataSource, reader])) {
    // In WAL mode NORMAL loses no committed transaction when the process dies (kill -9), only on
    // an OS crash or power loss; it saves an fsync per commit.
    await connection.query('PRAGMA synchronous = NORMAL');
  }
  const writes = new WriteSerializer(dataSource, onEffectError);
  return {
    dataSource,
    reader,
    writes,
    async ping() {
      try {
        await reader.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await writes.idle();
      if (reader !== dataSource && reader.isInitialized) await reader.destroy();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}
