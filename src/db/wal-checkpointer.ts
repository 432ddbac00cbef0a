import { DataSource } from 'typeorm';

/**
 * Copies the SQLite write-ahead log back into the database file from a connection of its own, so
 * that the writing connection does not. By default SQLite checkpoints in the COMMIT that takes the
 * log past 1,000 pages, with two fsyncs, while every write queued behind that commit waits: under
 * the delivery benchmark COMMIT averaged 11–20 ms. Here a PASSIVE checkpoint runs every `everyMs`
 * on SQLite's thread of this connection, beside the writer: it copies what no reader still needs and
 * never blocks a writer or a reader. The writer keeps a checkpoint of its own at `WRITER_CHECKPOINT_PAGES`
 * as a backstop, so the log stays bounded if this one falls behind. Each process runs its own; two
 * at once simply take turns (SQLITE_BUSY, ignored).
 */
export class WalCheckpointer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly connection: DataSource,
    private readonly everyMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkpoint(), this.everyMs).unref();
  }

  /** Runs one checkpoint (or waits for the one under way). */
  checkpoint(): Promise<void> {
    this.running ??= this.connection
      .query('PRAGMA wal_checkpoint(PASSIVE)')
      .then(
        () => undefined,
        (error: unknown) => {
          if (!isBusy(error)) this.onError(error);
        },
      )
      .finally(() => (this.running = undefined));
    return this.running;
  }

  /** Stops the timer and waits for a checkpoint under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}

/** The writer's own checkpoint threshold, in pages (SQLite's default is 1,000). */
export const WRITER_CHECKPOINT_PAGES = 10_000;

/** How often each process checkpoints. */
export const CHECKPOINT_EVERY_MS = 200;

function isBusy(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (error as { code?: string })?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}
