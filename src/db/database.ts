import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DataSource } from 'typeorm';
import { DatabaseSchema, dataSourceOptions, withEngineColumnTypes } from './data-source-options';
import { Engine, isPostgresUrl } from './engine';
import { WakeSignal } from './notify';
import { openPostgresDatabase } from './postgres-database';
import { statementInterrupter } from './sqlite-statement-limit';
import { finalizeStatements } from './statement-cache';
import { CHECKPOINT_EVERY_MS, WalCheckpointer, WRITER_CHECKPOINT_PAGES } from './wal-checkpointer';
import { WriteSerializer } from './write-serializer';

/** Reading connections for the accounts' reads, beside the writing one (SQLite runs one statement at a time per connection). */
export const DEFAULT_READERS = 2;
/** Reading connections for the service's own reads (`serviceReader`), which no account's reads can hold up. */
const SERVICE_READERS = 2;

export interface Database {
  engine: Engine;
  /** The writing connection (on PostgreSQL, the pool). Write only through `writes`; it also runs the migrations. */
  dataSource: DataSource;
  /**
   * A connection for the accounts' reads (the API's queries). On SQLite, taken in turn from a small
   * pool: WAL mode gives each the last committed snapshot, so a query never sees another request's
   * uncommitted (perhaps later rolled back) rows, and reads run beside writes and beside each other.
   * On PostgreSQL, a pool of its own, whose statements stop at `readStatementTimeoutMs`; on SQLite an
   * operation stopped at its time limit interrupts them (`cancelReadsRunningSince`).
   */
  readonly reader: DataSource;
  /**
   * Reads the service makes for itself: the feed, the delivery worker, API-key checks, health. On
   * PostgreSQL the writing pool, on SQLite two reading connections of their own: either way, no
   * account's reads can take them.
   */
  readonly serviceReader: DataSource;
  /**
   * Called when an operation is stopped at its time limit (started at `runningSince`, ms since the
   * epoch): cancels the reads still running for it. PostgreSQL's readers cancel themselves
   * (`statement_timeout`); SQLite's are interrupted (`statementInterrupter`).
   */
  cancelReadsRunningSince(runningSince: number): void;
  /** The only way to write: see `WriteSerializer`. */
  writes: WriteSerializer;
  /** True when the database answers a trivial query. */
  ping(): Promise<boolean>;
  /**
   * Calls `listener` when another process (or this one) committed something worth a look now
   * (`WakeSignal`). PostgreSQL's LISTEN/NOTIFY; never on SQLite, where processes poll. A signal only:
   * some may be lost (while reconnecting), so readers poll as well.
   */
  onWake(listener: (signal: WakeSignal) => void): () => void;
  close(): Promise<void>;
}

/**
 * Opens the database at `location` and brings its schema up to date with the migrations: a
 * `postgres://` URL (see `openPostgresDatabase`), or else a SQLite file path.
 * `schema` brings the entities and migrations (the app's: `appDatabaseSchema` in `./entities`).
 * `onBackgroundError` hears what fails outside any caller's request: an effect after a commit, a
 * WAL checkpoint (`WalCheckpointer`).
 */
export function openDatabase(
  location: string,
  schema: DatabaseSchema,
  onBackgroundError?: (error: unknown) => void,
  options: DatabaseOptions = {},
): Promise<Database> {
  const readStatementTimeoutMs = options.readStatementTimeoutMs ?? DEFAULT_READ_STATEMENT_TIMEOUT_MS;
  if (isPostgresUrl(location)) return openPostgresDatabase(location, schema, onBackgroundError, readStatementTimeoutMs);
  return openSqliteDatabase(location, schema, onBackgroundError, options.readers ?? DEFAULT_READERS);
}

export interface DatabaseOptions {
  /** SQLite: reading connections beside the writing one. */
  readers?: number;
  /** PostgreSQL: the longest a statement of `reader` may run before it is cancelled (the app: its operation time limit). */
  readStatementTimeoutMs?: number;
}

/** An operation's time limit (API.md §3): no read of one is worth running longer. */
const DEFAULT_READ_STATEMENT_TIMEOUT_MS = 15_000;

/**
 * Opens the SQLite file (creating its folder) and migrates it.
 * `:memory:` is a file of its own in a fresh folder under the OS temp folder, removed on `close()`:
 * SQLite's in-memory databases are one per connection, and the readers must be other connections.
 */
async function openSqliteDatabase(
  databasePath: string,
  schema: DatabaseSchema,
  onBackgroundError: ((error: unknown) => void) | undefined,
  readerCount: number,
): Promise<Database> {
  const temporaryFolder = databasePath === ':memory:' ? mkdtempSync(join(tmpdir(), 'deskforge-memory-')) : null;
  const file = temporaryFolder ? join(temporaryFolder, 'deskforge.sqlite') : databasePath;
  if (!temporaryFolder) mkdirSync(dirname(file), { recursive: true });
  const dataSource = new DataSource(dataSourceOptions(file, schema));
  await withEngineColumnTypes('sqlite', () => dataSource.initialize());
  await dataSource.runMigrations({ transaction: 'each' });
  const openOther = () => {
    const other = new DataSource({ ...dataSourceOptions(file, schema), migrations: [] });
    return withEngineColumnTypes('sqlite', () => other.initialize());
  };
  const readers = await Promise.all(Array.from({ length: readerCount }, openOther));
  const serviceReaders = await Promise.all(Array.from({ length: SERVICE_READERS }, openOther));
  const checkpointing = await openOther();
  const connections = new Set([dataSource, ...readers, ...serviceReaders, checkpointing]);
  for (const connection of connections) {
    // In WAL mode NORMAL loses no committed transaction when the process dies (kill -9), only on
    // an OS crash or power loss; it saves an fsync per commit.
    await connection.query('PRAGMA synchronous = NORMAL');
  }
  await dataSource.query(`PRAGMA wal_autocheckpoint = ${WRITER_CHECKPOINT_PAGES}`);
  const checkpointer = new WalCheckpointer(checkpointing, CHECKPOINT_EVERY_MS, onBackgroundError ?? (() => undefined));
  checkpointer.start();
  const writes = new WriteSerializer(dataSource, onBackgroundError);
  const interruptReads = statementInterrupter(readers);
  let turn = 0;
  let serviceTurn = 0;
  return {
    engine: 'sqlite',
    dataSource,
    get reader() {
      turn = (turn + 1) % readers.length;
      return readers[turn];
    },
    get serviceReader() {
      serviceTurn = (serviceTurn + 1) % serviceReaders.length;
      return serviceReaders[serviceTurn];
    },
    writes,
    async ping() {
      try {
        await serviceReaders[0].query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    onWake: () => () => undefined,
    cancelReadsRunningSince: interruptReads,
    async close() {
      await writes.idle();
      await checkpointer.stop();
      for (const connection of connections) await finalizeStatements(connection);
      for (const other of [...readers, ...serviceReaders, checkpointing]) if (other.isInitialized) await other.destroy();
      if (dataSource.isInitialized) await dataSource.destroy();
      if (temporaryFolder) rmSync(temporaryFolder, { recursive: true, force: true });
    },
  };
}
