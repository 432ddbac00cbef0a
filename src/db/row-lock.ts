import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { engineOf } from './engine';
import { queryRows } from './raw-sql';

/**
 * Makes the write transactions that lock the same row run one after the other, across processes, so
 * that a check followed by a write (a count against a cap, then an insert) holds under concurrent
 * writers. On PostgreSQL the row is locked `FOR NO KEY UPDATE` until the transaction ends: a second
 * locker waits, then reads what the first committed (READ COMMITTED takes a new snapshot for each
 * statement); rows inserted elsewhere with a foreign key to it are not held up (they take only
 * KEY SHARE). On SQLite there is nothing to do: every write transaction holds the database's write
 * lock from its `BEGIN IMMEDIATE` (`write-serializer.ts`).
 */
export async function lockRowForWrite<T extends ObjectLiteral>(manager: EntityManager, entity: EntityTarget<T>, id: string): Promise<void> {
  if (engineOf(manager) !== 'postgres') return;
  const metadata = manager.connection.getMetadata(entity);
  const { driver } = manager.connection;
  const key = driver.escape(metadata.primaryColumns[0].databaseName);
  await queryRows(manager, `SELECT 1 FROM ${driver.escape(metadata.tableName)} WHERE ${key} = ? FOR NO KEY UPDATE`, [id]);
}
