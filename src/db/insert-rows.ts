import { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/**
 * Inserts rows as given, in one statement, without TypeORM reading them back into the objects.
 * (On SQLite, `manager.insert` of several entities with default-valued columns re-selects the rows
 * and merges them into the objects in result order, which can swap their ids.)
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: Array<QueryDeepPartialEntity<T>>): Promise<void> {
  if (rows.length === 0) return;
  await manager.createQueryBuilder().insert().into(target).values(rows).updateEntity(false).execute();
}
