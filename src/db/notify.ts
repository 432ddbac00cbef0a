import { EntityManager, QueryRunner } from 'typeorm';
import { engineOf } from './engine';

/**
 * Cross-process wake-ups on PostgreSQL (`LISTEN/NOTIFY`): `feed` when a transaction appended to the
 * feed (events or changes), `work` when deliveries became due. A notification is only a signal,
 * sent at commit to the processes listening then; the tables stay the truth, and every reader and
 * worker also polls them. On SQLite there is no such channel: processes on one file poll.
 */
export type WakeSignal = 'feed' | 'work';

/** The channel every process LISTENs on; the payload is the `WakeSignal`. */
export const WAKE_CHANNEL = 'deskforge_wake';

/** What each open transaction (query runner) has already done once. */
const doneIn = new WeakMap<QueryRunner, Set<string>>();

/**
 * Runs `step` at most once per transaction of `manager` (keyed by `key`); a manager outside a
 * transaction runs it every time.
 */
export async function oncePerTransaction(manager: EntityManager, key: string, step: () => Promise<unknown>): Promise<void> {
  const runner = manager.queryRunner;
  if (!runner?.isTransactionActive) {
    await step();
    return;
  }
  let done = doneIn.get(runner);
  if (!done) {
    done = new Set();
    doneIn.set(runner, done);
  }
  if (done.has(key)) return;
  done.add(key);
  await step();
}

/** Tells every listening process, at this transaction's commit, to look (`WakeSignal`). No-op on SQLite. */
export async function announce(manager: EntityManager, signal: WakeSignal): Promise<void> {
  if (engineOf(manager) !== 'postgres') return;
  await oncePerTransaction(manager, `notify:${signal}`, () => manager.query(`SELECT pg_notify($1, $2)`, [WAKE_CHANNEL, signal]));
}

/** Forgets what the transaction did once: after a ROLLBACK TO SAVEPOINT undid it (locks and notifications included). */
export function forgetTransactionSteps(runner: QueryRunner): void {
  doneIn.delete(runner);
}
