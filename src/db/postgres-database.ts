import { Client } from 'pg';
import { DataSource, DataSourceOptions } from 'typeorm';
import type { Database } from './database';
import { DatabaseSchema, dataSourceOptions, withEngineColumnTypes } from './data-source-options';
import { redactLocation } from './engine';
import { WAKE_CHANNEL, WakeSignal } from './notify';
import { WriteSerializer } from './write-serializer';

/** The advisory lock that start-ups hold while they migrate ("dmigr" in ASCII). */
const MIGRATION_LOCK = 0x646d696772;

/** A start that cannot reach the database, or is refused by it: the message names DATABASE_URL, never its password. */
export class DatabaseUnreachable extends Error {}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message || (error as { code?: string }).code || 'no answer';
}

/**
 * Opens the PostgreSQL database at `url` (two pools of `POSTGRES_POOL_SIZE` connections: the
 * accounts' reads, and everything else) and migrates
 * it. Processes that start at once migrate one at a time, under an advisory lock, so an empty
 * database is built once; the others then find nothing left to run. Writes go through a
 * `WriteSerializer` like on SQLite (one transaction at a time per process, with group commit);
 * other processes write beside it, and the statements that must not collide say so (`FOR UPDATE SKIP
 * LOCKED` for claims, the feed's append lock). The API's reads use the readers' pool. One more connection LISTENs for
 * wake-ups (`onWake`) and comes back by itself after the server restarts.
 */
export async function openPostgresDatabase(
  url: string,
  schema: DatabaseSchema,
  onBackgroundError: ((error: unknown) => void) | undefined,
  readStatementTimeoutMs: number,
): Promise<Database> {
  const dataSource = new DataSource(dataSourceOptions(url, schema));
  // The accounts' reads: a pool of their own, so however many reads an account sends, writes, the
  // feed, the worker and /healthz keep their connections; a read statement stops at the time limit.
  const options = dataSourceOptions(url, schema);
  // A read waits for a connection as long as its operation may run (then the operation's TIMEOUT
  // answers), not the 5 s that fail a connection to a server that does not answer.
  const readers = new DataSource({
    ...options,
    migrations: [],
    connectTimeoutMS: readStatementTimeoutMs,
    extra: { ...(options.extra as object), statement_timeout: readStatementTimeoutMs },
  } as DataSourceOptions);
  try {
    await withEngineColumnTypes('postgres', () => dataSource.initialize());
    await withEngineColumnTypes('postgres', () => readers.initialize());
  } catch (error) {
    await readers.destroy().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    throw new DatabaseUnreachable(`cannot open the PostgreSQL database at DATABASE_URL (${redactLocation(url)}): ${reason(error)}`);
  }
  try {
    await migrateOnce(dataSource);
  } catch (error) {
    await readers.destroy().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  const writes = new WriteSerializer(dataSource, onBackgroundError);
  const wakeups = new WakeListener(url);
  wakeups.start();
  return {
    engine: 'postgres',
    dataSource,
    reader: readers,
    serviceReader: dataSource,
    // The readers' statement_timeout has cancelled them already.
    cancelReadsRunningSince: () => undefined,
    writes,
    async ping() {
      try {
        await dataSource.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    onWake: (listener) => wakeups.add(listener),
    async close() {
      await writes.idle();
      await wakeups.stop();
      if (readers.isInitialized) await readers.destroy();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

async function migrateOnce(dataSource: DataSource): Promise<void> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query(`SELECT pg_advisory_lock(${MIGRATION_LOCK})`);
    await dataSource.runMigrations({ transaction: 'all' });
  } finally {
    await runner.query(`SELECT pg_advisory_unlock(${MIGRATION_LOCK})`).catch(() => undefined);
    await runner.release();
  }
}

/** Longest wait before a LISTEN connection that dropped tries again. */
const MAX_RECONNECT_MS = 2_000;

/** One connection that LISTENs on `WAKE_CHANNEL` and passes each notification on; reconnects when it drops. */
class WakeListener {
  private readonly listeners = new Set<(signal: WakeSignal) => void>();
  private client: Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private delayMs = 100;
  private stopped = false;

  constructor(private readonly url: string) {}

  add(listener: (signal: WakeSignal) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.stopped) return;
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 5_000, keepAlive: true });
    this.client = client;
    let dropped = false;
    const drop = () => {
      if (dropped) return;
      dropped = true;
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      this.reconnectLater();
    };
    client.on('error', drop);
    client.on('end', drop);
    client.on('notification', (message) => {
      if (message.channel !== WAKE_CHANNEL) return;
      for (const listener of this.listeners) listener(message.payload as WakeSignal);
    });
    client
      .connect()
      .then(() => client.query(`LISTEN ${WAKE_CHANNEL}`))
      .then(() => {
        this.delayMs = 100;
        // Whatever was committed while not listening is looked at now.
        for (const listener of this.listeners) {
          listener('feed');
          listener('work');
        }
      })
      .catch(drop);
  }

  private reconnectLater(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.start();
    }, this.delayMs);
    this.retry.unref();
    this.delayMs = Math.min(this.delayMs * 2, MAX_RECONNECT_MS);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }
}
