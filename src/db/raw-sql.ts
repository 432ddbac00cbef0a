import { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { engineOf, forEngine } from './engine';
import { rowsOf, runKept } from './statement-cache';

/**
 * Plain parameterized SQL for the hot write paths. Under load each statement costs a round trip to
 * SQLite's worker thread and back through a busy event loop, so these paths use few statements
 * (RETURNING instead of a read after a write, one multi-row INSERT per table) and skip TypeORM's
 * query builders; values still go through TypeORM's column conversions, so rows read the same
 * whichever way they were written. Statements are written with `?` placeholders, for either engine
 * (`forEngine`).
 */

/** Most rows (or ids) in one statement: well under SQLite's 32,766 parameters for any of our tables. */
const STATEMENT_ROWS = 500;

/** `items` in slices of at most `size`, for statements with one group of parameters per item. */
export function* chunks<T>(items: T[], size = STATEMENT_ROWS): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}

interface SqliteConnection {
  all(sql: string, parameters: unknown[], callback: (error: Error | null, rows: unknown[]) => void): void;
}

/**
 * Longest SQL kept prepared (`runKept`). The one-row statements of mutations are kept; multi-row
 * VALUES lists, whose text changes with their row count, mostly are not: kept, a few hundred sizes
 * of them would push the others out and hold memory for their thousands of parameters.
 */
export const MAX_KEPT_SQL = 2_000;

/**
 * Runs one statement (`?` placeholders) and returns its rows, whatever the statement: TypeORM's
 * SQLite runner drops the RETURNING rows of an INSERT or UPDATE, and its PostgreSQL runner answers
 * an UPDATE with `[rows, count]`. On a manager the statement runs in its transaction; on a data
 * source, on any of its connections. Errors are TypeORM's `QueryFailedError`, as from `query`.
 */
export async function queryRows<T>(target: EntityManager | DataSource, sql: string, parameters: unknown[] = []): Promise<T[]> {
  const manager = target instanceof DataSource ? target.manager : target;
  if (engineOf(manager) === 'postgres') {
    const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
    try {
      const result = await runner.query(forEngine('postgres', sql), parameters, true);
      return result.records as T[];
    } finally {
      if (!manager.queryRunner) await runner.release();
    }
  }
  const kept = sql.length <= MAX_KEPT_SQL ? runKept<T>(manager.connection, sql, parameters) : undefined;
  if (kept) return kept;
  const runner = manager.queryRunner ?? manager.connection.createQueryRunner();
  const connection = (await runner.connect()) as SqliteConnection;
  return rowsOf<T>(sql, parameters, (callback) => connection.all(sql, parameters, callback));
}

function columnOf<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, property: string): ColumnMetadata {
  const column = manager.connection.getMetadata(target).findColumnWithPropertyName(property);
  if (!column) throw new Error(`${String(target)} has no column for ${property}`);
  return column;
}

/**
 * A Date as the engine stores it, for a statement's parameter: UTC text on SQLite (`storedDatetime`),
 * the Date itself on PostgreSQL (a `timestamptz`).
 */
export function storedTime(target: EntityManager | DataSource, date: Date): string | Date;
export function storedTime(target: EntityManager | DataSource, date: Date | null): string | Date | null;
export function storedTime(target: EntityManager | DataSource, date: Date | null): string | Date | null {
  if (date === null) return null;
  return engineOf(target) === 'postgres' ? date : storedDatetime(date);
}

/**
 * A Date as TypeORM stores `datetime` columns on SQLite (`YYYY-MM-DD HH:MM:SS.SSS`, UTC), the same
 * text as its DateUtils makes for years 0000-9999, from one native call instead of ten paddings.
 */
export function storedDatetime(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

function persistentValue(manager: EntityManager, column: ColumnMetadata, value: unknown): unknown {
  if (value instanceof Date && column.type === 'datetime' && !column.transformer) return storedDatetime(value);
  return manager.connection.driver.preparePersistentValue(value, column);
}

/** A property value as TypeORM stores it in its column (dates as UTC text, booleans as 0/1, transformers applied). */
export function storedValue<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  property: keyof T & string,
  value: unknown,
): unknown {
  return persistentValue(manager, columnOf(manager, target, property), value);
}

/**
 * A common table expression of literal rows, for set-based statements: `"name" ("alias", …) AS
 * (VALUES (?, …), …)`. Each field is an alias and the entity property whose column types its values
 * (stored as TypeORM stores them); `rows` give each alias's value. PostgreSQL types a VALUES list by
 * its first row, so that row's placeholders are cast to the columns' types.
 */
export function valuesTable<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  name: string,
  fields: Array<[alias: string, property: keyof T & string]>,
  rows: Array<Record<string, unknown>>,
): { sql: string; parameters: unknown[] } {
  const columns = fields.map(([, property]) => columnOf(manager, target, property));
  const cast = engineOf(manager) === 'postgres';
  const first = `(${columns.map((column) => (cast ? `?::${column.type as string}` : '?')).join(', ')})`;
  const rest = `(${columns.map(() => '?').join(', ')})`;
  return {
    sql: `"${name}" (${fields.map(([alias]) => `"${alias}"`).join(', ')}) AS (VALUES ${rows.map((_, index) => (index === 0 ? first : rest)).join(', ')})`,
    parameters: rows.flatMap((row) => fields.map(([alias], index) => persistentValue(manager, columns[index], row[alias]))),
  };
}

/**
 * Inserts complete rows (every column given, none read back) in as few statements as the row count
 * allows. Unlike `manager.insert`, nothing is re-selected or merged back into the objects.
 */
export async function insertRows<T extends ObjectLiteral>(manager: EntityManager, target: EntityTarget<T>, rows: T[]): Promise<void> {
  if (rows.length === 0) return;
  const metadata = manager.connection.getMetadata(target);
  const columns = metadata.columns.filter((column) => rows[0][column.propertyName] !== undefined);
  const names = columns.map((column) => `"${column.databaseName}"`).join(', ');
  const placeholders = `(${columns.map(() => '?').join(', ')})`;
  for (const chunk of chunks(rows)) {
    const parameters = chunk.flatMap((row) => columns.map((column) => persistentValue(manager, column, row[column.propertyName])));
    await queryRows(
      manager,
      `INSERT INTO "${metadata.tableName}" (${names}) VALUES ${chunk.map(() => placeholders).join(', ')}`,
      parameters,
    );
  }
}

/**
 * An entity from a raw row (`SELECT *` or `RETURNING *`), with TypeORM's conversions (dates, booleans,
 * transformers). With `columns`, only those properties are set (the row read only them).
 */
export function hydrate<T extends ObjectLiteral>(
  manager: EntityManager,
  target: EntityTarget<T>,
  row: Record<string, unknown>,
  columns: ColumnMetadata[] = manager.connection.getMetadata(target).columns,
): T {
  const entity = manager.create(target) as Record<string, unknown>;
  for (const column of columns) {
    entity[column.propertyName] = manager.connection.driver.prepareHydratedValue(row[column.databaseName], column);
  }
  return entity as T;
}

/** A date column's value as a raw query returns it (UTC text on SQLite, a Date on PostgreSQL), as a Date. */
export function datetimeOf(value: string | Date): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}
