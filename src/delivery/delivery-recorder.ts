import { EntityManager } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { chunks, storedDatetime } from '../db/raw-sql';
import { EventBus } from '../event-bus';
import { newId } from '../ids';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { Webhook } from '../webhooks/webhook.entity';
import { DeliveryStatus } from './delivery-status';
import { Delivery } from './delivery.entity';

/** What an attempt means for its webhook's health. */
export type WebhookEffect = 'succeeded' | 'failed' | 'gone' | 'none';

/** One finished attempt and the delivery state it leads to. */
export interface AttemptOutcome {
  delivery: { id: string; accountId: string; webhookId: string; eventId: string };
  /** 1-based attempt number. */
  number: number;
  /** False when no request was made (the webhook was deleted or inactive at send time). */
  sent: boolean;
  startedAt: Date;
  durationMs: number;
  responseStatus: number | null;
  responseBody: string | null;
  error: string | null;
  /** The delivery's status after this attempt: PENDING means another attempt at `nextAttemptAt`. */
  status: DeliveryStatus;
  nextAttemptAt: Date | null;
  /**
   * `succeeded` resets the webhook's consecutive-failure count; `failed` (the delivery ended FAILED)
   * adds one; `gone` (410) adds one and disables the webhook at once; `none` for retries and unsent attempts.
   */
  webhookEffect: WebhookEffect;
}

export interface DeliveryRecorderOptions {
  /** How long outcomes gather before one transaction writes them all (group commit). */
  windowMs: number;
  /** Consecutive FAILED deliveries that disable a webhook. */
  disableAfterFailures: number;
}

const OUTCOME_LABEL: Record<DeliveryStatus, 'succeeded' | 'failed' | 'retried'> = {
  [DeliveryStatus.SUCCEEDED]: 'succeeded',
  [DeliveryStatus.FAILED]: 'failed',
  [DeliveryStatus.PENDING]: 'retried',
};

interface Waiting {
  outcome: AttemptOutcome;
  resolve: (applied: boolean) => void;
  reject: (error: unknown) => void;
}

/** A webhook this batch disabled. */
interface Disabled {
  id: string;
  accountId: string;
  reason: string;
}

/** How a batch changes one webhook, applied in attempt order. */
interface Health {
  accountId: string;
  /** A success in the batch sets the count to `failures` instead of adding them. */
  reset: boolean;
  failures: number;
  gone: boolean;
}

/**
 * Writes attempt outcomes with group commit: outcomes arriving within a few milliseconds (or while
 * the previous batch is being written) go into ONE transaction: attempt rows, delivery updates and
 * webhook counters. Only after that commit are the `delivery` updates published and the callers
 * told, so a delivery counts as succeeded only once its success is stored.
 */
export class DeliveryRecorder {
  private queue: Waiting[] = [];
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private roomWaiters: Array<{ below: number; resolve: () => void }> = [];

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: DeliveryRecorderOptions,
  ) {}

  /**
   * Stores the outcome. Resolves after the commit with true, or false when the delivery had already
   * ended some other way (its webhook was deleted): then only a made request is recorded.
   */
  record(outcome: AttemptOutcome): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ outcome, resolve, reject });
      if (!this.timer && !this.draining) this.timer = setTimeout(() => this.drain(), this.options.windowMs);
    });
  }

  /** Outcomes handed over and not yet stored. */
  get backlog(): number {
    return this.queue.length + this.writing;
  }

  /** Resolves once fewer than `below` outcomes wait to be stored (at once if that is already so). */
  room(below: number): Promise<void> {
    if (this.backlog < below) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ below, resolve }));
  }

  /** Writes whatever is waiting now and resolves once everything recorded so far is stored. */
  async flush(): Promise<void> {
    if (this.timer) this.drain();
    await this.draining;
  }

  private drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        this.writing = batch.length;
        await this.writeBatch(batch);
        this.writing = 0;
        this.wakeRoomWaiters();
      }
      this.draining = undefined;
    })();
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const backlog = this.backlog;
    const waiting = this.roomWaiters;
    this.roomWaiters = waiting.filter((waiter) => backlog >= waiter.below);
    for (const waiter of waiting) if (backlog < waiter.below) waiter.resolve();
  }

  private async writeBatch(batch: Waiting[]): Promise<void> {
    try {
      const applied = await this.write(batch.map((item) => item.outcome));
      batch.forEach((item, index) => item.resolve(applied[index]));
    } catch (error) {
      if (batch.length === 1) {
        batch[0].reject(error);
        return;
      }
      // One bad outcome must not sink the others: write each alone.
      this.logger.warn({ err: error, outcomes: batch.length }, 'delivery outcome batch failed; writing them one by one');
      for (const item of batch) await this.writeBatch([item]);
    }
  }

  /**
   * One transaction for everything waiting, in a few set-based statements per 500 outcomes (this is
   * the hot path): the delivery rows still PENDING take their new state; attempt rows are added for
   * them and for any request actually made; webhook counters follow. Taking all that waits keeps up
   * with any delivery rate the database can store: the busier the write queue, the larger the batch.
   */
  private write(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    return this.db.writes.write(async (tx) => {
      const { manager } = tx;
      const applied = await updatePendingDeliveries(manager, outcomes);
      const isApplied = (outcome: AttemptOutcome) => applied.has(outcome.delivery.id);
      // A request made for a delivery that ended meanwhile (its webhook was deleted) is still history.
      for (const late of outcomes.filter((outcome) => !isApplied(outcome) && outcome.sent)) {
        await manager.update(Delivery, late.delivery.id, { attemptCount: late.number });
      }
      await insertAttempts(manager, outcomes.filter((outcome) => isApplied(outcome) || outcome.sent));
      const disabled = await this.applyHealth(manager, outcomes.filter(isApplied));
      tx.afterCommit(() => this.announce(outcomes.filter(isApplied), disabled));
      return outcomes.map(isApplied);
    }, { aheadOfDeferred: !outcomes.some(mayDisableWebhook) });
  }

  /** Resets or adds to consecutive-failure counts and disables webhooks; returns the ones disabled. */
  private async applyHealth(manager: EntityManager, outcomes: AttemptOutcome[]): Promise<Disabled[]> {
    const health = new Map<string, Health>();
    for (const outcome of outcomes) trackHealth(health, outcome);
    const cleared = [...health].filter(([, change]) => change.reset && change.failures === 0 && !change.gone).map(([id]) => id);
    if (cleared.length > 0) {
      await manager.query(
        `UPDATE "webhooks" SET "consecutiveFailures" = 0 WHERE "consecutiveFailures" <> 0 AND "id" IN (${cleared.map(() => '?').join(', ')})`,
        cleared,
      );
    }
    const disabled: Disabled[] = [];
    const threshold = this.options.disableAfterFailures;
    for (const [id, change] of health) {
      if (cleared.includes(id)) continue;
      if (change.reset) await manager.update(Webhook, id, { consecutiveFailures: change.failures });
      else if (change.failures > 0) await manager.increment(Webhook, { id }, 'consecutiveFailures', change.failures);
      const reason = change.gone ? 'The endpoint answered 410 Gone' : `Disabled after ${threshold} deliveries in a row failed`;
      const query = manager
        .createQueryBuilder()
        .update(Webhook)
        .set({ active: false, disabledReason: reason, updatedAt: this.clock.now() })
        .where('id = :id AND active = :active', { id, active: true });
      if (!change.gone) query.andWhere('consecutiveFailures >= :threshold', { threshold });
      const result = await query.execute();
      if (result.affected) disabled.push({ id, accountId: change.accountId, reason });
    }
    return disabled;
  }

  private announce(outcomes: AttemptOutcome[], disabled: Disabled[]): void {
    const counts = new Map<DeliveryStatus, number>();
    for (const outcome of outcomes) counts.set(outcome.status, (counts.get(outcome.status) ?? 0) + 1);
    for (const [status, count] of counts) this.metrics.deliveries.inc({ outcome: OUTCOME_LABEL[status] }, count);
    for (const outcome of outcomes) {
      this.bus.publish('delivery', { ...outcome.delivery, status: outcome.status });
      if (outcome.status === DeliveryStatus.FAILED) {
        this.logger.info({ deliveryId: outcome.delivery.id, webhookId: outcome.delivery.webhookId, attempts: outcome.number, error: outcome.error, status: outcome.responseStatus }, 'delivery failed');
      }
    }
    for (const { id, accountId, reason } of disabled) {
      this.logger.warn({ webhookId: id, accountId, reason }, 'webhook disabled');
      this.bus.publish('webhook', { id, accountId });
    }
  }
}

/**
 * Whether storing the outcome may disable its webhook, which the outbox's deferred rows depend on
 * (see `WriteOptions.aheadOfDeferred`); stored deliveries it reads and writes only by id, of events
 * already published.
 */
function mayDisableWebhook(outcome: AttemptOutcome): boolean {
  return outcome.webhookEffect === 'gone' || outcome.webhookEffect === 'failed';
}

function trackHealth(health: Map<string, Health>, outcome: AttemptOutcome): void {
  if (outcome.webhookEffect === 'none') return;
  const { webhookId, accountId } = outcome.delivery;
  const change = health.get(webhookId) ?? { accountId, reset: false, failures: 0, gone: false };
  if (outcome.webhookEffect === 'succeeded') {
    change.reset = true;
    change.failures = 0;
  } else {
    change.failures += 1;
    if (outcome.webhookEffect === 'gone') change.gone = true;
  }
  health.set(webhookId, change);
}

/** A Date as TypeORM stores `datetime` columns on SQLite, for the raw statements below. */
function stored(date: Date | null): string | null {
  return date === null ? null : storedDatetime(date);
}

/**
 * Gives every delivery of the batch that is still PENDING its new state, in one statement; returns
 * the ids it changed. (It starts with WITH so TypeORM's SQLite runner returns the RETURNING rows.)
 */
async function updatePendingDeliveries(manager: EntityManager, outcomes: AttemptOutcome[]): Promise<Set<string>> {
  const applied = new Set<string>();
  for (const chunk of chunks(outcomes)) {
    const rows = await manager.query(
      `WITH "outcome" ("id", "status", "attemptCount", "nextAttemptAt", "completedAt") AS (VALUES ${chunk.map(() => '(?, ?, ?, ?, ?)').join(', ')})
       UPDATE "deliveries" SET "status" = "outcome"."status", "attemptCount" = "outcome"."attemptCount",
         "nextAttemptAt" = "outcome"."nextAttemptAt", "completedAt" = "outcome"."completedAt"
       FROM "outcome" WHERE "deliveries"."id" = "outcome"."id" AND "deliveries"."status" = ?
       RETURNING "deliveries"."id" AS "id"`,
      [
        ...chunk.flatMap((outcome) => [
          outcome.delivery.id,
          outcome.status,
          outcome.number,
          stored(outcome.nextAttemptAt),
          stored(outcome.status === DeliveryStatus.PENDING ? null : new Date(outcome.startedAt.getTime() + outcome.durationMs)),
        ]),
        DeliveryStatus.PENDING,
      ],
    );
    for (const row of rows as Array<{ id: string }>) applied.add(row.id);
  }
  return applied;
}

async function insertAttempts(manager: EntityManager, outcomes: AttemptOutcome[]): Promise<void> {
  for (const chunk of chunks(outcomes)) {
    await manager.query(
      `INSERT INTO "delivery_attempts" ("id", "deliveryId", "number", "startedAt", "durationMs", "responseStatus", "responseBody", "error")
       VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      chunk.flatMap((outcome) => [
        newId('att'),
        outcome.delivery.id,
        outcome.number,
        stored(outcome.startedAt),
        outcome.durationMs,
        outcome.responseStatus,
        outcome.responseBody,
        outcome.error,
      ]),
    );
  }
}
