import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';

/** Rows straight from the SQLite file at `databasePath`, read beside whatever processes have it open. */
export async function storedRows<T = Record<string, unknown>>(databasePath: string, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const db = await openDatabase(databasePath, appDatabaseSchema);
  try {
    return (await db.reader.query(sql, parameters)) as T[];
  } finally {
    await db.close();
  }
}
