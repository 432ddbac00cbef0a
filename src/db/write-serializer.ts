import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { engineOf } from './engine';
import { forgetTransactionSteps } from './notify';

/**
 * Work that many writes of a group share, done in one go: the outbox inserts the events and
 * deliveries of all the group's writes with one statement per table.
 */
export interface DeferredBatch<T> {
  /** Does the work for `items` (in the order they were deferred) in the group's transaction. */
  flush(manager: EntityManager, items: T[]): Promise<void>;
}

/** What a write transaction gets: its manager, and ways to act later in its group. */
export interface WriteTransaction {
  manager: EntityManager;
  /**
   * Runs `effect` once this write has committed, in commit order, before any write queued after that
   * commit starts; never when the write rolls back.
   */
  afterCommit(effect: () => void): void;
  /**
   * Hands `item` to `batch`, flushed in this write's transaction before it commits: after this write
   * and any later writes of its group that run `aheadOfDeferred`, and before any other write. Until
   * then no statement sees what the flush writes. Dropped if this write fails.
   */
  defer<T>(batch: DeferredBatch<T>, item: T): void;
}

/**
 * Writes of one kind that a group runs together (`WriteSerializer.writeBatched`): a run of them,
 * queued one after another, costs a few statements instead of one or more each.
 */
export interface WriteBatcher<I, R> {
  /**
   * Does `items` (consecutive writes of one group, in queue order) in the group's transaction, each
   * as if after the ones before it, and answers each item's result, in the same order.
   */
  run(manager: EntityManager, items: I[]): Promise<R[]>;
}

export interface WriteOptions {
  /**
   * The write neither reads nor changes what deferred work of earlier writes in its group reads or
   * writes (for the outbox: events, deliveries, webhooks), so it may run before that work is flushed.
   */
  aheadOfDeferred?: boolean;
}

/**
 * On SQLite every write transaction begins IMMEDIATE: it holds SQLite's write lock from its start
 * (waiting up to `busyTimeout` for other processes). A transaction that read first and wrote later
 * would fail at once (SQLITE_BUSY, no waiting) whenever another process had committed in between; and
 * feed positions are taken under this lock. TypeORM's runner only issues a plain BEGIN, so the BEGIN
 * is ours and the runner is told a transaction is open (its COMMIT and ROLLBACK then work as usual).
 * On PostgreSQL a plain BEGIN (READ COMMITTED): what must not collide takes row or advisory locks.
 */
async function begin(runner: QueryRunner, exec: (sql: string) => Promise<void>): Promise<void> {
  if (engineOf(runner.manager) === 'postgres') {
    await runner.startTransaction();
    return;
  }
  await exec('BEGIN IMMEDIATE');
  // Private to TypeORM's runner: the state its own startTransaction() would leave.
  Object.assign(runner, { isTransactionActive: true, transactionDepth: 1 });
}

/**
 * SQL given as text only (BEGIN, SAVEPOINT, …; several statements at once), run on the runner's
 * connection: one round trip. Errors are TypeORM's `QueryFailedError`.
 */
async function textExecutor(runner: QueryRunner): Promise<(sql: string) => Promise<void>> {
  const connection = await runner.connect();
  if (engineOf(runner.manager) === 'postgres') {
    return async (sql) => {
      await runner.query(sql);
    };
  }
  const sqlite = connection as ExecConnection;
  return (sql) =>
    new Promise<void>((resolve, reject) => sqlite.exec(sql, (error) => (error ? reject(new QueryFailedError(sql, [], error)) : resolve())));
}

/**
 * PostgreSQL's answers that mean "try the whole transaction again": a deadlock (two transactions
 * each waiting for a lock the other holds, say a webhook row and the feed's append lock) or a
 * serialization failure. Nothing of the transaction was kept.
 */
function isRetryable(error: unknown): boolean {
  const code = (error as { driverError?: { code?: string }; code?: string })?.driverError?.code ?? (error as { code?: string })?.code;
  return code === '40P01' || code === '40001';
}

/** How many times a group that hit a deadlock runs again before its writes fail with it. */
const RETRIES = 5;

/** Most writes committed together (bounds how long the first of them waits for the others). */
export const MAX_GROUP = 64;

interface Unit {
  /** For a batched write, `prepared` is its item's result when the batch ran already in this transaction. */
  work: (tx: WriteTransaction, prepared?: { result: unknown }) => Promise<unknown>;
  options: WriteOptions;
  batched?: { batcher: WriteBatcher<unknown, unknown>; item: unknown };
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Settled = { unit: Unit; value: unknown; effects: Array<() => void> } | { unit: Unit; error: unknown };

interface ExecConnection {
  exec(sql: string, callback: (error: Error | null) => void): void;
}

/** Deferred items of a group not flushed yet, per batch in order of first use. */
class Deferred {
  private readonly items = new Map<DeferredBatch<unknown>, unknown[]>();

  add(batch: DeferredBatch<unknown>, item: unknown): void {
    const items = this.items.get(batch);
    if (items) items.push(item);
    else this.items.set(batch, [item]);
  }

  get empty(): boolean {
    return this.items.size === 0;
  }

  async flush(manager: EntityManager): Promise<void> {
    const batches = [...this.items];
    this.items.clear();
    for (const [batch, items] of batches) await batch.flush(manager, items);
  }
}

/**
 * Runs every write transaction one at a time, as far as anyone can tell, with group commit.
 *
 * TypeORM's sqlite driver shares one connection among all queries, so two interleaved transactions
 * would share one SQLite transaction: a rollback of one was seen to erase the other's committed rows.
 * Writes therefore run in turn. Writes that queue up while one runs form the next group: ONE SQLite
 * transaction. A write that fails is undone alone and the others commit: the group runs again
 * without it, each write inside its own SAVEPOINT. Under load this saves a BEGIN and a COMMIT (with
 * its WAL write) per write, and each statement costs a round trip through a busy event loop.
 * Nothing changes for a write alone.
 * Work the writes defer (`tx.defer`) is done once for the group, which saves more statements.
 *
 * What each write sees: the writes before it in the group (and everything committed), as if each
 * had committed in turn. Once the group commits, the writes' `afterCommit` effects run in queue
 * order (the commit order), then each caller gets its result or its own error. A group that cannot
 * commit as a whole (COMMIT or a deferred flush fails, or SQLite itself ended the transaction) is
 * rolled back and its writes run again one at a time; so `work` may run more than once, and must act
 * outside the database only through `afterCommit`.
 */
export class WriteSerializer {
  private queue: Unit[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly onEffectError: (error: unknown) => void = () => {},
  ) {}

  /** Write transactions waiting for their turn (a metric of write pressure). */
  get waiting(): number {
    return this.queue.length;
  }

  write<T>(work: (tx: WriteTransaction) => Promise<T>, options: WriteOptions = {}): Promise<T> {
    return this.enqueue({ work, options });
  }

  /**
   * A write whose statements `batcher` can run for many writes at once: its item's result (run with
   * the consecutive batched writes of the same batcher queued in its group, or alone when the group
   * runs again in savepoints) goes to `then`, which finishes the write in the same transaction (reads
   * more, defers, throws to fail it). Options as for `write`; a write is batched with the writes
   * after it only if they run `aheadOfDeferred`.
   */
  writeBatched<I, R, T>(
    batcher: WriteBatcher<I, R>,
    item: I,
    then: (tx: WriteTransaction, result: R) => Promise<T> | T,
    options: WriteOptions = {},
  ): Promise<T> {
    return this.enqueue({
      work: async (tx, prepared) => then(tx, prepared ? (prepared.result as R) : (await batcher.run(tx.manager, [item]))[0]),
      options,
      batched: { batcher: batcher as WriteBatcher<unknown, unknown>, item },
    });
  }

  private enqueue<T>(unit: Omit<Unit, 'resolve' | 'reject'>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ ...unit, resolve: resolve as (value: unknown) => void, reject });
      this.running ??= this.drain();
    });
  }

  /** Resolves once every queued write has finished. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) await this.commitGroup(this.queue.splice(0, MAX_GROUP));
    this.running = undefined;
  }

  /**
   * Commits `group` in one transaction. Without `savepoints` (a group's first try) a write that
   * fails undoes the whole transaction: it alone is rejected, and the others run again, each in a
   * savepoint this time. Failures are rare, and a savepoint costs a statement per write.
   */
  private async commitGroup(group: Unit[], savepoints = false, retries = RETRIES): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    let settled: Settled[];
    try {
      settled = await this.runInTransaction(runner, group, savepoints);
    } catch (failure) {
      await runner.rollbackTransaction().catch(() => undefined);
      await runner.release();
      const cause = failure instanceof WriteFailed ? failure.error : failure;
      if (retries > 0 && isRetryable(cause)) {
        await this.commitGroup(group, savepoints, retries - 1);
        return;
      }
      if (failure instanceof WriteFailed) {
        group[failure.index].reject(failure.error);
        const others = group.filter((_, index) => index !== failure.index);
        if (others.length > 0) await this.commitGroup(others, others.length > 1);
      } else if (group.length === 1) {
        group[0].reject(failure);
      } else {
        for (const unit of group) await this.commitGroup([unit]);
      }
      return;
    }
    await runner.release();
    for (const outcome of settled) {
      if ('error' in outcome) {
        outcome.unit.reject(outcome.error);
        continue;
      }
      for (const effect of outcome.effects) {
        try {
          effect();
        } catch (error) {
          this.onEffectError(error);
        }
      }
      outcome.unit.resolve(outcome.value);
    }
  }

  /**
   * Runs the group's writes in one transaction and commits it. Throws `WriteFailed` when a write
   * fails without a savepoint to undo it alone, anything else when the group cannot commit as a whole.
   */
  private async runInTransaction(runner: QueryRunner, group: Unit[], savepoints: boolean): Promise<Settled[]> {
    const exec = await textExecutor(runner);
    await begin(runner, exec);
    const settled: Settled[] = [];
    const deferred = new Deferred();
    // Statements owed by the previous write, sent with the next one's SAVEPOINT in one round trip.
    let owed = '';
    // Results of batched writes whose batch ran in this transaction (never carried into another try).
    const prepared = new Map<Unit, { result: unknown }>();
    for (const [index, unit] of group.entries()) {
      if (!unit.options.aheadOfDeferred && !deferred.empty) {
        if (owed) await exec(owed);
        owed = '';
        await deferred.flush(runner.manager);
      }
      if (savepoints) await exec(`${owed}SAVEPOINT "write"`);
      // A failing batch cannot tell whose item failed: it fails the group, whose writes then run alone.
      else if (unit.batched && !prepared.has(unit)) await runBatch(runner.manager, group.slice(index), prepared);
      const effects: Array<() => void> = [];
      const mine: Array<[DeferredBatch<unknown>, unknown]> = [];
      try {
        const value = await unit.work(
          {
            manager: runner.manager,
            afterCommit: (effect) => effects.push(effect),
            defer: (batch, item) => mine.push([batch as DeferredBatch<unknown>, item]),
          },
          prepared.get(unit),
        );
        for (const [batch, item] of mine) deferred.add(batch, item);
        settled.push({ unit, value, effects });
        owed = savepoints ? 'RELEASE "write"; ' : '';
      } catch (error) {
        if (!savepoints || isRetryable(error)) throw new WriteFailed(index, error);
        settled.push({ unit, error });
        owed = 'ROLLBACK TO "write"; RELEASE "write"; ';
        forgetTransactionSteps(runner);
      }
    }
    if (owed.startsWith('ROLLBACK')) await exec(owed);
    await deferred.flush(runner.manager);
    await runner.commitTransaction();
    return settled;
  }
}

/**
 * Runs the batch of the first of `units` (a batched write) with the batched writes of the same
 * batcher right after it that run `aheadOfDeferred` (nothing is flushed between them), and keeps
 * each one's result in `prepared`.
 */
async function runBatch(manager: EntityManager, units: Unit[], prepared: Map<Unit, { result: unknown }>): Promise<void> {
  const { batcher } = units[0].batched!;
  const run = [units[0]];
  for (const unit of units.slice(1)) {
    if (unit.batched?.batcher !== batcher || !unit.options.aheadOfDeferred) break;
    run.push(unit);
  }
  const results = await batcher.run(
    manager,
    run.map((unit) => unit.batched!.item),
  );
  run.forEach((unit, index) => prepared.set(unit, { result: results[index] }));
}

/** The write at `index` of a group without savepoints failed with `error`. */
class WriteFailed {
  constructor(
    readonly index: number,
    readonly error: unknown,
  ) {}
}
