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

/** An account's published events (no `testWebhook` samples) in commit order, with their stored bodies. */
export function storedEvents(databasePath: string, accountId: string): Promise<Array<{ id: string; type: string; payload: string }>> {
  return storedRows(databasePath, 'SELECT id, type, payload FROM events WHERE accountId = ? AND test = 0 ORDER BY position', [accountId]);
}
