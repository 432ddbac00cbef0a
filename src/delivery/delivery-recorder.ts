import { EntityManager } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { ChangeEntry, ChangeLog } from '../feed/change-log';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookEffect } from './attempt-plan';
import { DeliveryStatus } from './delivery-status';
import { applyTransitions, clearConsecutiveFailures, countLateAttempt, insertAttempts } from './delivery.queries';

/** One finished attempt and the delivery state it leads to. */
export interface AttemptOutcome {
  delivery: { id: string; accountId: string; webhookId: string; eventId: string };
  /** The claim's token: the outcome is stored only while the delivery still carries it. */
  leaseToken: string;
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

/**
 * Most outcomes in one transaction: a larger batch would hold the one writer long enough for the
 * worker's claims and the mutations queued behind it to wait (and the worker to run dry meanwhile).
 */
const MAX_BATCH = 500;

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
 * the previous batch is being written) go into ONE transaction (up to `MAX_BATCH`): attempt rows,
 * delivery updates and webhook counters, and the `delivery` (and `webhook`, when one is disabled)
 * changes of the feed.
 * Only after that commit are the callers told, so a delivery counts as succeeded only once its
 * success is stored.
 */
export class DeliveryRecorder {
  private queue: Waiting[] = [];
  private writing = 0;
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private roomWaiters: Array<{ below: number; resolve: () => void }> = [];

  constructor(
    private readonly db: Database,
    private readonly changes: ChangeLog,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
    private readonly options: DeliveryRecorderOptions,
  ) {}

  /**
   * Stores the outcome. Resolves after the commit with true, or false when the delivery had already
   * ended some other way (its webhook was deleted) or its lease was lost: then only a made request
   * is recorded.
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
        const batch = this.queue.splice(0, MAX_BATCH);
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
   * One transaction for up to `MAX_BATCH` outcomes waiting, in a few set-based statements (this is
   * the hot path): the delivery rows still PENDING take their new state; attempt rows are added for
   * them and for any request actually made; webhook counters follow. Taking what waits keeps up
   * with any delivery rate the database can store: the busier the write queue, the larger the batch.
   */
  private write(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    return this.db.writes.write(
      async (tx) => {
        const { manager } = tx;
        const applied = await applyTransitions(
          manager,
          outcomes.map((outcome) => ({
            id: outcome.delivery.id,
            leaseToken: outcome.leaseToken,
            status: outcome.status,
            attemptCount: outcome.number,
            nextAttemptAt: outcome.nextAttemptAt,
            completedAt: outcome.status === DeliveryStatus.PENDING ? null : new Date(outcome.startedAt.getTime() + outcome.durationMs),
          })),
        );
        const isApplied = (outcome: AttemptOutcome) => applied.has(outcome.delivery.id);
        // A request made for a delivery that ended meanwhile (its webhook was deleted) is still history.
        for (const late of outcomes.filter((outcome) => !isApplied(outcome) && outcome.sent))
          await countLateAttempt(manager, late.delivery.id, late.number);
        await insertAttempts(
          manager,
          outcomes
            .filter((outcome) => isApplied(outcome) || outcome.sent)
            .map((outcome) => ({
              deliveryId: outcome.delivery.id,
              number: outcome.number,
              startedAt: outcome.startedAt,
              durationMs: outcome.durationMs,
              responseStatus: outcome.responseStatus,
              responseBody: outcome.responseBody,
              error: outcome.error,
            })),
        );
        const stored = outcomes.filter(isApplied);
        const disabled = await this.applyHealth(manager, stored);
        const entries: ChangeEntry[] = [
          ...stored.map((outcome) => ({ topic: 'delivery' as const, message: { ...outcome.delivery, status: outcome.status } })),
          ...disabled.map(({ id, accountId }) => ({ topic: 'webhook' as const, message: { id, accountId } })),
        ];
        await this.changes.recordAll(tx, entries);
        tx.afterCommit(() => this.announce(stored, disabled));
        return outcomes.map(isApplied);
      },
      { aheadOfDeferred: !outcomes.some(mayDisableWebhook) },
    );
  }

  /** Resets or adds to consecutive-failure counts and disables webhooks; returns the ones disabled. */
  private async applyHealth(manager: EntityManager, outcomes: AttemptOutcome[]): Promise<Disabled[]> {
    const health = new Map<string, Health>();
    for (const outcome of outcomes) trackHealth(health, outcome);
    const cleared = [...health].filter(([, change]) => change.reset && change.failures === 0 && !change.gone).map(([id]) => id);
    await clearConsecutiveFailures(manager, cleared);
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
        .where('"id" = :id AND "active" = :active', { id, active: true });
      if (!change.gone) query.andWhere('"consecutiveFailures" >= :threshold', { threshold });
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
      if (outcome.status === DeliveryStatus.FAILED) {
        this.logger.info(
          {
            deliveryId: outcome.delivery.id,
            webhookId: outcome.delivery.webhookId,
            attempts: outcome.number,
            error: outcome.error,
            status: outcome.responseStatus,
          },
          'delivery failed',
        );
      }
    }
    for (const { id, accountId, reason } of disabled) this.logger.warn({ webhookId: id, accountId, reason }, 'webhook disabled');
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
