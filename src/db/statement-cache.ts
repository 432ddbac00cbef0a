import { DataSource, QueryFailedError } from 'typeorm';
import { engineOf, forEngine } from './engine';

/**
 * Prepared statements kept per SQLite connection, for the hot read paths (the lists) and the hot
 * writes (`queryRows`). Unkept, a statement is prepared, run and finalized each time: two trips to
 * SQLite's worker thread and back through a busy event loop (and a parse). A kept statement is one
 * trip. Statements are parameterized, so the SQL text is the key; the least recently used is
 * finalized beyond `MAX_STATEMENTS`. On PostgreSQL reads go through `query` (the pg driver has its
 * own round trips).
 */

type RowsCallback = (error: Error | null, rows: unknown[]) => void;

/** The rows a sqlite3 `all` call (made by `all` with the callback) answers; errors are TypeORM's `QueryFailedError`. */
export function rowsOf<T>(sql: string, parameters: unknown[], all: (callback: RowsCallback) => void): Promise<T[]> {
  return new Promise((resolve, reject) => {
    all((error, rows) => {
      if (error) reject(new QueryFailedError(sql, parameters, error));
      else resolve(rows as T[]);
    });
  });
}

interface SqliteStatement {
  all(parameters: unknown[], callback: RowsCallback): void;
  finalize(callback: () => void): void;
}

interface SqliteHandle {
  prepare(sql: string, callback: (error: Error | null) => void): SqliteStatement;
}

/** Distinct list statements are a few per list and filter combination; this bounds the oddities. */
export const MAX_STATEMENTS = 256;

/** A kept statement; `ready` settles once SQLite has prepared it (null) or refused it (the error). */
interface Kept {
  statement: SqliteStatement;
  ready: Promise<Error | null>;
  /** Set once prepared: runs need not wait any more. */
  prepared: boolean;
}

/** Per connection, in least-recently-used-first order (a Map keeps insertion order). */
const statements = new WeakMap<DataSource, Map<string, Kept>>();

/** Connections whose statements were finalized for closing: reads there run unkept. */
const closing = new WeakSet<DataSource>();

/** The SQLite connection of `source`, or undefined on another engine or once it is closing. */
function sqliteHandle(source: DataSource): SqliteHandle | undefined {
  if (source.options.type !== 'sqlite' || closing.has(source)) return undefined;
  const handle = (source.driver as unknown as { databaseConnection?: SqliteHandle }).databaseConnection;
  return typeof handle?.prepare === 'function' ? handle : undefined;
}

function keptFor(source: DataSource, handle: SqliteHandle, sql: string): Kept {
  let cache = statements.get(source);
  if (!cache) {
    cache = new Map();
    statements.set(source, cache);
  }
  const found = cache.get(sql);
  if (found) {
    cache.delete(sql);
    cache.set(sql, found);
    return found;
  }
  if (cache.size >= MAX_STATEMENTS) {
    const [oldestSql, oldest] = cache.entries().next().value as [string, Kept];
    cache.delete(oldestSql);
    void oldest.ready.then((error) => {
      if (!error) oldest.statement.finalize(() => undefined);
    });
  }
  // A statement SQLite refuses never answers the runs queued on it: runs wait for `ready`, and it is dropped.
  let settle!: (error: Error | null) => void;
  const kept: Kept = { statement: undefined!, ready: new Promise((resolve) => (settle = resolve)), prepared: false };
  kept.statement = handle.prepare(sql, (error) => {
    if (error) {
      if (cache.get(sql) === kept) cache.delete(sql);
    } else {
      kept.prepared = true;
    }
    settle(error);
  });
  cache.set(sql, kept);
  return kept;
}

/** Runs a read-only statement (`?` placeholders) and returns its rows; errors are TypeORM's `QueryFailedError`. */
export function readRows<T>(source: DataSource, sql: string, parameters: unknown[]): Promise<T[]> {
  const handle = sqliteHandle(source);
  if (!handle) return source.query(forEngine(engineOf(source), sql), parameters) as Promise<T[]>;
  return keptRows(source, handle, sql, parameters);
}

/**
 * Runs any statement (`?` placeholders) on the SQLite connection of `source` as a kept statement and
 * returns its rows, or returns undefined on another engine. Inside a write transaction too: the
 * transaction is the connection's, whichever statement object runs in it.
 */
export function runKept<T>(source: DataSource, sql: string, parameters: unknown[]): Promise<T[]> | undefined {
  const handle = sqliteHandle(source);
  return handle && keptRows(source, handle, sql, parameters);
}

async function keptRows<T>(source: DataSource, handle: SqliteHandle, sql: string, parameters: unknown[]): Promise<T[]> {
  const kept = keptFor(source, handle, sql);
  if (!kept.prepared) {
    const error = await kept.ready;
    if (error) throw new QueryFailedError(sql, parameters, error);
  }
  return rowsOf<T>(sql, parameters, (callback) => kept.statement.all(parameters, callback));
}

/** Finalizes the connection's kept statements: SQLite will not close a connection that has any. */
export async function finalizeStatements(source: DataSource): Promise<void> {
  // A read that comes after (a feed poll while the database closes) must not keep a new statement.
  closing.add(source);
  const cache = statements.get(source);
  if (!cache) return;
  statements.delete(source);
  await Promise.all(
    [...cache.values()].map(async ({ statement, ready }) => {
      if ((await ready) === null) await new Promise<void>((resolve) => statement.finalize(() => resolve()));
    }),
  );
}
