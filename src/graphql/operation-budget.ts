import DataLoader from 'dataloader';
import PQueue from 'p-queue';
import { DomainError, ResponseTooLarge, Timeout } from '../errors';

export interface OperationLimits {
  /** How long one operation may run before it is stopped with `TIMEOUT` (15 s: API.md §3). */
  timeoutMs: number;
  /** The largest result one operation may produce (10 MB: API.md §3). */
  resultBytes: number;
  /** Called when an operation is stopped at its time limit, with when it started: cancels its reads (`Database.cancelReadsRunningSince`). */
  onTimeout?(startedAt: number): void;
}

/** The client went away: nobody will read the result, so the work stops. Never sent to anyone. */
export class ClientGone extends DomainError {
  readonly code = 'CLIENT_GONE';
  constructor() {
    super('The client closed the request');
  }
}

/**
 * What one operation may still spend, and the work it already did: made when the operation starts
 * (an HTTP request, a WebSocket query or mutation, one live event's execution) and handed to its
 * resolvers in the context.
 *
 * - Time: at `timeoutMs` it stops (`Timeout`); so it does when the client has gone (`ClientGone`)
 *   or the result grew too large (`ResponseTooLarge`). Once stopped, every resolver that has not
 *   finished fails at once (`budgetedSchema`), so the execution ends within a tick; the database
 *   statements still running are cancelled by the engine's statement time limit (see `db/`).
 * - Bytes: resolvers' results are counted as they arrive (`count`), so a result over `resultBytes`
 *   stops the work before it is all in memory.
 * - Aggregates: `once` computes the same aggregate on the same object once per operation, however
 *   many aliases ask for it.
 * - Objects by id: `load` reads the ids asked for in one tick with one statement (a page of
 *   deliveries asking for their events reads them at once, not one by one).
 * - Reads at once: the reads its field resolvers start (`read`, and through `once` and `load`) run
 *   `READS_AT_ONCE` at a time, so a page of 99 webhooks asking for their stats does not queue 99
 *   statements ahead of every other account's in the readers' pool.
 */
export class OperationBudget {
  private readonly timer: NodeJS.Timeout;
  private readonly results = new Map<string, Promise<unknown>>();
  private readonly loaders = new Map<string, DataLoader<string, unknown>>();
  private reads: PQueue | undefined;
  private bytes = 0;
  private stopReason: DomainError | undefined;
  private readonly stopped: Promise<never>;
  private rejectStopped!: (reason: DomainError) => void;

  constructor(private readonly limits: OperationLimits) {
    this.stopped = new Promise<never>((_resolve, reject) => {
      this.rejectStopped = reject;
    });
    // Nobody may be racing when it stops: that rejection is expected, not unhandled.
    this.stopped.catch(() => undefined);
    const startedAt = Date.now();
    this.timer = setTimeout(() => {
      this.stop(new Timeout(`The operation ran longer than ${limits.timeoutMs / 1000} s and was stopped. Ask for less at once.`));
      limits.onTimeout?.(startedAt);
    }, limits.timeoutMs);
    this.timer.unref();
  }

  /** Why the operation was stopped, or undefined while it may go on. */
  get reason(): DomainError | undefined {
    return this.stopReason;
  }

  /** Stops the operation (the first reason wins). */
  stop(reason: DomainError): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    clearTimeout(this.timer);
    this.rejectStopped(reason);
  }

  /** The operation is over: no timer is left behind. */
  finish(): void {
    clearTimeout(this.timer);
  }

  /** Throws the reason once the operation is stopped. */
  check(): void {
    if (this.stopReason) throw this.stopReason;
  }

  /** `work`, or the stop reason as soon as the operation stops, whichever comes first. */
  race<T>(work: Promise<T>): Promise<T> {
    return Promise.race([work, this.stopped]);
  }

  /**
   * Counts `bytes` more of the result; stops the operation once the total is clearly over the limit.
   * The count is an estimate that can see a row's text twice (the row, then a field computed from it,
   * like an event's parsed `payload`), so it stops at twice the limit; the exact size is checked
   * when the result is serialized (`limitedStringify`).
   */
  count(bytes: number): void {
    this.bytes += bytes;
    if (this.bytes > 2 * this.limits.resultBytes) {
      this.stop(new ResponseTooLarge(tooLargeMessage(this.limits.resultBytes)));
      this.check();
    }
  }

  /**
   * The object of `kind` with `id` (undefined when there is none), read with every other id of that
   * kind asked for in the same tick: `readMany` gets them all and answers by id.
   */
  load<V>(kind: string, id: string, readMany: (ids: readonly string[]) => Promise<Map<string, V>>): Promise<V | undefined> {
    let loader = this.loaders.get(kind) as DataLoader<string, V | undefined> | undefined;
    if (!loader) {
      loader = new DataLoader<string, V | undefined>(async (ids) => {
        const found = await this.read(() => readMany(ids));
        return ids.map((one) => found.get(one));
      });
      this.loaders.set(kind, loader);
    }
    return loader.load(id);
  }

  /** Runs `work` (a read) when fewer than `READS_AT_ONCE` of this operation's reads are under way. */
  read<T>(work: () => Promise<T>): Promise<T> {
    this.reads ??= new PQueue({ concurrency: READS_AT_ONCE });
    return this.reads.add(() => {
      this.check();
      return work();
    }) as Promise<T>;
  }

  /** `compute()` once per `key` in this operation: aliases of one aggregate share one computation. */
  once<T>(key: string, compute: () => Promise<T>): Promise<T> {
    let result = this.results.get(key) as Promise<T> | undefined;
    if (!result) {
      result = this.read(compute);
      this.results.set(key, result);
    }
    return result;
  }
}

/** What a client is told of a result over `resultBytes`. */
export function tooLargeMessage(resultBytes: number): string {
  return `The result would be larger than ${resultBytes / 1_000_000} MB. Ask for smaller pages or fewer fields.`;
}

/**
 * Reads one operation's field resolvers run at once. With 8 operations per account that is at most
 * 16 statements of one account in the readers' pool (10 connections on PostgreSQL), so another
 * account's read waits behind at most those; two keep a page's linked reads overlapping.
 */
const READS_AT_ONCE = 2;

/**
 * About how many bytes `value` adds to a JSON result: string lengths plus a little per value, down
 * to a few levels. A connection counts its nodes (its `edges` are the same nodes again).
 */
export function approximateBytes(value: unknown, depth = 0): number {
  if (typeof value === 'string') return value.length + 2;
  if (value === null || typeof value !== 'object' || depth > 4 || value instanceof Date) return 8;
  if (Array.isArray(value)) {
    let total = 2;
    for (const item of value) total += approximateBytes(item, depth + 1);
    return total;
  }
  const nodes = (value as { nodes?: unknown }).nodes;
  if (Array.isArray(nodes)) return approximateBytes(nodes, depth + 1);
  let total = 2;
  for (const key of Object.keys(value)) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'function') total += key.length + approximateBytes(item, depth + 1);
  }
  return total;
}
