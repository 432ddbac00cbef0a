import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { sql } from './test-database';

/**
 * Rows straight from the database at `location` (a SQLite file or a PostgreSQL URL), read beside
 * whatever processes have it open. SQL as for `sql`: `?` placeholders, camelCase names quoted.
 */
export async function storedRows<T = Record<string, unknown>>(location: string, text: string, parameters: unknown[] = []): Promise<T[]> {
  const db = await openDatabase(location, appDatabaseSchema);
  try {
    return await sql<T>(db.reader, text, parameters);
  } finally {
    await db.close();
  }
}

/** An account's published events (no `testWebhook` samples) in commit order, with their stored bodies. */
export function storedEvents(location: string, accountId: string): Promise<Array<{ id: string; type: string; payload: string }>> {
  return storedRows(location, 'SELECT id, type, payload FROM events WHERE "accountId" = ? AND NOT "test" ORDER BY position', [accountId]);
}
