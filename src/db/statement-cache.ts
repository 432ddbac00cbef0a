import { DataSource, QueryFailedError } from 'typeorm';

/**
 * Prepared statements kept per SQLite connection for the hot read paths (the lists). Through
 * `DataSource.query` every read prepares its statement, runs it and finalizes it: three trips to
 * SQLite's worker thread, a query runner and a parse each time. A kept statement is one trip.
 * Statements are parameterized, so the SQL text is the key; the least recently used is finalized
 * beyond `MAX_STATEMENTS`. On another driver (PostgreSQL later) reads go through `query`.
 */

interface SqliteStatement {
  all(parameters: unknown[], callback: (error: Error | null, rows: unknown[]) => void): void;
  finalize(callback: () => void): void;
}

interface SqliteHandle {
  prepare(sql: string, callback: (error: Error | null) => void): SqliteStatement;
}

/** Distinct list statements are a few per list and filter combination; this bounds the oddities. */
export const MAX_STATEMENTS = 256;

/** Per connection, in least-recently-used-first order (a Map keeps insertion order). */
const statements = new WeakMap<DataSource, Map<string, SqliteStatement>>();

function sqliteHandle(source: DataSource): SqliteHandle | undefined {
  if (source.options.type !== 'sqlite') return undefined;
  const handle = (source.driver as unknown as { databaseConnection?: SqliteHandle }).databaseConnection;
  return typeof handle?.prepare === 'function' ? handle : undefined;
}

function statementFor(source: DataSource, handle: SqliteHandle, sql: string): SqliteStatement {
  let cache = statements.get(source);
  if (!cache) {
    cache = new Map();
    statements.set(source, cache);
  }
  const kept = cache.get(sql);
  if (kept) {
    cache.delete(sql);
    cache.set(sql, kept);
    return kept;
  }
  if (cache.size >= MAX_STATEMENTS) {
    const [oldestSql, oldest] = cache.entries().next().value as [string, SqliteStatement];
    cache.delete(oldestSql);
    oldest.finalize(() => undefined);
  }
  // A statement that fails to prepare fails each run queued on it (with the error); it is dropped.
  const prepared = handle.prepare(sql, (error) => {
    if (error && cache.get(sql) === prepared) cache.delete(sql);
  });
  cache.set(sql, prepared);
  return prepared;
}

/** Runs a read-only statement (`?` placeholders) and returns its rows; errors are TypeORM's `QueryFailedError`. */
export function readRows<T>(source: DataSource, sql: string, parameters: unknown[]): Promise<T[]> {
  const handle = sqliteHandle(source);
  if (!handle) return source.query(sql, parameters) as Promise<T[]>;
  const statement = statementFor(source, handle, sql);
  return new Promise((resolve, reject) => {
    statement.all(parameters, (error, rows) => {
      if (error) reject(new QueryFailedError(sql, parameters, error));
      else resolve(rows as T[]);
    });
  });
}

/** Finalizes the connection's kept statements: SQLite will not close a connection that has any. */
export async function finalizeStatements(source: DataSource): Promise<void> {
  const cache = statements.get(source);
  if (!cache) return;
  statements.delete(source);
  await Promise.all([...cache.values()].map((statement) => new Promise<void>((resolve) => statement.finalize(resolve))));
}
