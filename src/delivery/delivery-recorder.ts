import { In } from 'typeorm';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { insertRows } from '../db/insert-rows';
import { WriteTransaction } from '../db/write-serializer';
import { EventBus } from '../events/event-bus';
import { newId } from '../ids';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { Webhook } from '../webhooks/webhook.entity';
import { DeliveryAttempt } from './delivery-attempt.entity';
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

/** Most outcomes written by one transaction. */
const MAX_BATCH = 200;

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
  private timer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;

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

  /** Writes whatever is waiting now and resolves once everything recorded so far is stored. */
  async flush(): Promise<void> {
    if (this.timer) this.drain();
    await this.draining;
  }

  private drain(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= (async () => {
      while (this.queue.length > 0) await this.writeBatch(this.queue.splice(0, MAX_BATCH));
      this.draining = undefined;
    })();
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

  private write(outcomes: AttemptOutcome[]): Promise<boolean[]> {
    return this.db.writes.write(async (tx) => {
      const { manager } = tx;
      const ids = outcomes.map((outcome) => outcome.delivery.id);
      const pending = new Set(
        (await manager.find(Delivery, { select: ['id'], where: { id: In(ids), status: DeliveryStatus.PENDING } })).map((d) => d.id),
      );
      const attempts: Array<Partial<DeliveryAttempt>> = [];
      const health = new Map<string, Health>();
      for (const outcome of outcomes) {
        const { delivery, number } = outcome;
        if (pending.has(delivery.id)) {
          await manager.update(Delivery, delivery.id, {
            status: outcome.status,
            attemptCount: number,
            nextAttemptAt: outcome.nextAttemptAt,
            completedAt: outcome.status === DeliveryStatus.PENDING ? null : new Date(outcome.startedAt.getTime() + outcome.durationMs),
          });
          trackHealth(health, outcome);
        } else if (outcome.sent) {
          await manager.update(Delivery, delivery.id, { attemptCount: number });
        }
        if (pending.has(delivery.id) || outcome.sent) {
          attempts.push({
            id: newId('att'),
            deliveryId: delivery.id,
            number,
            startedAt: outcome.startedAt,
            durationMs: outcome.durationMs,
            responseStatus: outcome.responseStatus,
            responseBody: outcome.responseBody,
            error: outcome.error,
          });
        }
      }
      await insertRows(manager, DeliveryAttempt, attempts);
      const disabled = await this.applyHealth(tx, health);
      tx.afterCommit(() => this.announce(outcomes.filter((outcome) => pending.has(outcome.delivery.id)), disabled));
      return outcomes.map((outcome) => pending.has(outcome.delivery.id));
    });
  }

  /** Updates consecutive-failure counts and disables webhooks; returns the ones disabled. */
  private async applyHealth(tx: WriteTransaction, health: Map<string, Health>): Promise<Array<{ id: string; accountId: string; reason: string }>> {
    const { manager } = tx;
    const disabled: Array<{ id: string; accountId: string; reason: string }> = [];
    const threshold = this.options.disableAfterFailures;
    for (const [id, change] of health) {
      if (change.reset) await manager.update(Webhook, id, { consecutiveFailures: change.failures });
      else if (change.failures > 0) await manager.increment(Webhook, { id }, 'consecutiveFailures', change.failures);
      if (!change.gone && change.failures === 0) continue;
      const reason = change.gone
        ? 'The endpoint answered 410 Gone'
        : `Disabled after ${threshold} deliveries in a row failed`;
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

  private announce(outcomes: AttemptOutcome[], disabled: Array<{ id: string; accountId: string; reason: string }>): void {
    for (const outcome of outcomes) {
      this.metrics.deliveries.inc({ outcome: OUTCOME_LABEL[outcome.status] });
      this.bus.publish('delivery', { ...outcome.delivery, status: outcome.status });
    }
    for (const { id, accountId, reason } of disabled) {
      this.logger.warn({ webhookId: id, accountId, reason }, 'webhook disabled');
      this.bus.publish('webhook', { id, accountId });
    }
  }
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
