import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../ormconfig';
import { WriteSerializer } from './write-serializer';

export interface Database {
  dataSource: DataSource;
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
  if (databasePath !== ':memory:') mkdirSync(dirname(databasePath), { recursive: true });
  const dataSource = new DataSource(dataSourceOptions(databasePath));
  await dataSource.initialize();
  const writes = new WriteSerializer(dataSource, onEffectError);
  await dataSource.runMigrations({ transaction: 'each' });
  return {
    dataSource,
    writes,
    async ping() {
      try {
        await dataSource.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await writes.idle();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}
