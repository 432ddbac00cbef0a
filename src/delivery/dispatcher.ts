import { version } from '../../package.json';
import { Clock } from '../clock';
import { WebhookConfig } from '../config';
import { Database } from '../db/database';
import { EventBus, Unsubscribe } from '../event-bus';
import { EventType } from '../events/event-type';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { Resolver } from '../webhooks/url-policy';
import { AttemptOutcome, DeliveryRecorder } from './delivery-recorder';
import { DeliveryStatus } from './delivery-status';
import { LaneScheduler } from './lane-scheduler';
import { Delivery } from './delivery.entity';
import { RetryPolicy } from './retry-policy';
import { AttemptResult, Sender } from './sender';
import { signatureHeaders } from './signature';
import { StoredDeliveryLoader } from './stored-delivery-loader';
import { WebhookCache } from './webhook-cache';

export const USER_AGENT = `DeskForge-Webhooks/${version}`;

/** After an outcome could not be stored, the same attempt is made again this much later. */
const RECORD_FAILURE_RETRY_MS = 1000;
/** Finished attempts waiting to be stored beyond which new attempts wait (bounds memory; ~1 KB each). */
const MAX_UNRECORDED = 5_000;
/** Longest timer Node accepts; a later due time is re-checked when this one fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface DispatcherDependencies {
  db: Database;
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** DNS for the send-time SSRF check. */
  resolve: Resolver;
  /** [0, 1) for the retry jitter. */
  random: () => number;
  config: WebhookConfig;
  /** How long `stop()` lets in-flight attempts finish before cutting them off. */
  shutdownGraceMs: number;
}

/** A delivery this process will attempt. */
interface Job {
  id: string;
  accountId: string;
  webhookId: string;
  eventId: string;
  /**
   * The body and type, when the job comes straight from a committed event. Otherwise (restart,
   * retry, redelivery) they are read when the attempt starts, with the delivery's current state.
   */
  event?: { type: EventType; payload: string };
  /** Attempts already made. */
  attemptCount: number;
}

/**
 * Turns pending deliveries into signed HTTP attempts. The database is the source of truth: this
 * holds only what it can rebuild from PENDING rows (`start()` does exactly that after a restart).
 *
 * Concurrency: each webhook is a lane of a `LaneScheduler`, capped at `endpointConcurrency`, under the
 * global cap `concurrency`, so a slow or dead endpoint holds at most its own share of global slots.
 * Deliveries due later wait on timers and hold no slot. An attempt releases
 * its slots as soon as the HTTP exchange ends; its outcome is stored by the `DeliveryRecorder`
 * (group commit), and a retry is scheduled only once that write has committed.
 */
export class Dispatcher {
  private readonly lanes: LaneScheduler<Job>;
  /** Deliveries this process holds: waiting for their time, queued, in flight, or being recorded. */
  private readonly held = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Attempts under way (HTTP exchange, not the recording of its outcome). */
  private readonly running = new Set<Promise<void>>();
  private readonly sender: Sender;
  private readonly recorder: DeliveryRecorder;
  private readonly webhooks: WebhookCache;
  private readonly stored: StoredDeliveryLoader;
  private readonly retries: RetryPolicy;
  private subscriptions: Unsubscribe[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly deps: DispatcherDependencies) {
    const { config } = deps;
    this.lanes = new LaneScheduler({ concurrency: config.concurrency, perLane: config.endpointConcurrency }, (job) => this.attempt(job));
    this.sender = new Sender({
      timeoutMs: config.timeoutMs,
      allowPrivateUrls: config.allowPrivateUrls,
      resolve: deps.resolve,
      clock: deps.clock,
      connectionsPerOrigin: config.concurrency,
    });
    this.recorder = new DeliveryRecorder(deps.db, deps.bus, deps.clock, deps.metrics, deps.logger, {
      windowMs: config.recordWindowMs,
      disableAfterFailures: config.disableAfterFailures,
    });
    this.webhooks = new WebhookCache(deps.db.reader);
    this.stored = new StoredDeliveryLoader(deps.db.reader);
    this.retries = new RetryPolicy(config.retryDelaysMs, deps.random);
    deps.metrics.watchDeliveryLoad(() => ({ queued: this.queued, inFlight: this.inFlight }));
  }

  /** Listens for new deliveries, then schedules every stored PENDING delivery at its `nextAttemptAt`. */
  async start(): Promise<void> {
    const { bus } = this.deps;
    this.subscriptions = [
      bus.subscribe('event', (event) => {
        for (const { id, webhookId } of event.deliveries) {
          this.admit({ id, webhookId, accountId: event.accountId, eventId: event.id, event, attemptCount: 0 }, event.createdAt);
        }
      }),
      bus.subscribe('delivery', (update) => {
        if (update.status !== DeliveryStatus.PENDING || this.held.has(update.id)) return;
        const { id, accountId, webhookId, eventId } = update;
        this.admit({ id, accountId, webhookId, eventId, attemptCount: 0 }, this.deps.clock.now());
      }),
      bus.subscribe('webhook', (change) => this.webhooks.invalidate(change.id)),
    ];
    const pending = await this.deps.db.reader.getRepository(Delivery).find({
      select: ['id', 'accountId', 'webhookId', 'eventId', 'attemptCount', 'nextAttemptAt'],
      where: { status: DeliveryStatus.PENDING },
      order: { nextAttemptAt: 'ASC', createdAt: 'ASC' },
    });
    for (const delivery of pending) this.admit(delivery, delivery.nextAttemptAt ?? this.deps.clock.now());
    this.deps.logger.info({ pending: pending.length }, 'delivery dispatcher started');
  }

  /**
   * Stops taking work: timers and queued attempts are dropped (their rows stay PENDING and resume on
   * the next start); attempts in flight may finish within `shutdownGraceMs`, then are cut off and not
   * recorded (so they are made again after a restart); stored outcomes are flushed.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const unsubscribe of this.subscriptions) unsubscribe();
      for (const timer of this.timers.values()) clearTimeout(timer);
      this.timers.clear();
      this.lanes.clear();
      const inFlight = [...this.running];
      if (inFlight.length > 0) {
        this.deps.logger.info({ inFlight: inFlight.length }, 'waiting for in-flight webhook attempts');
        let graceTimer: NodeJS.Timeout | undefined;
        const grace = new Promise<'late'>((resolve) => (graceTimer = setTimeout(() => resolve('late'), this.deps.shutdownGraceMs)));
        const settled = await Promise.race([Promise.allSettled(inFlight), grace]);
        clearTimeout(graceTimer);
        if (settled === 'late') {
          this.deps.logger.warn({ inFlight: this.running.size }, 'cutting off webhook attempts still in flight');
          this.sender.abortAll();
          await Promise.allSettled(inFlight);
        }
      }
      await this.recorder.flush();
      this.sender.close();
    })();
    return this.stopping;
  }

  /** Deliveries due and waiting for a free slot. */
  get queued(): number {
    return this.lanes.waiting;
  }

  /** Attempts under way. */
  get inFlight(): number {
    return this.running.size;
  }

  private admit(job: Job, dueAt: Date): void {
    if (this.stopping || this.held.has(job.id)) return;
    this.held.add(job.id);
    this.scheduleAt(job, dueAt);
  }

  private scheduleAt(job: Job, dueAt: Date): void {
    const delay = dueAt.getTime() - this.deps.clock.now().getTime();
    if (delay <= 0) {
      this.enqueue(job);
      return;
    }
    const timer = setTimeout(
      () => {
        this.timers.delete(job.id);
        this.scheduleAt(job, dueAt);
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.timers.set(job.id, timer);
  }

  private enqueue(job: Job): void {
    this.lanes.push(job.webhookId, job);
  }

  private async attempt(job: Job): Promise<void> {
    if (this.stopping) return;
    const running = this.perform(job).then(
      (outcome) => this.record(job, outcome),
      (error: unknown) => {
        this.deps.logger.error({ err: error, deliveryId: job.id }, 'webhook attempt failed unexpectedly');
        this.retryLater(job);
      },
    );
    this.running.add(running);
    await running;
    this.running.delete(running);
    // When the database falls behind, the slot is held until it catches up, so finished attempts
    // never pile up in memory faster than they are stored.
    if (this.recorder.backlog >= MAX_UNRECORDED) await this.recorder.room(MAX_UNRECORDED);
  }

  /** Makes one attempt; null when there is nothing to record (no longer pending, or cut off). */
  private async perform(job: Job): Promise<AttemptOutcome | null> {
    let { event, attemptCount } = job;
    if (!event) {
      const stored = await this.stored.load(job.id);
      if (!stored || stored.status !== DeliveryStatus.PENDING) return null;
      event = { type: stored.type, payload: stored.payload };
      attemptCount = stored.attemptCount;
    }
    const number = attemptCount + 1;
    const webhook = await this.webhooks.get(job.webhookId);
    if (!webhook?.active) {
      const why = !webhook
        ? 'the webhook was deleted'
        : `the webhook is inactive${webhook.disabledReason ? ` (${webhook.disabledReason})` : ''}`;
      return this.unsent(job, number, `not sent: ${why}`);
    }
    const now = this.deps.clock.now();
    const rotating = webhook.previousSecretExpiresAt !== null && webhook.previousSecretExpiresAt > now;
    const result = await this.sender.send({
      url: webhook.url,
      body: event.payload,
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-deskforge-event': event.type,
        'x-deskforge-delivery': job.id,
        ...signatureHeaders({
          eventId: job.eventId,
          timestampSeconds: Math.floor(now.getTime() / 1000),
          body: event.payload,
          secret: webhook.secret,
          previousSecret: rotating ? webhook.previousSecret : null,
        }),
      },
    });
    if (result.aborted) return null;
    this.deps.metrics.attemptDuration.observe(result.durationMs / 1000);
    if (this.deps.logger.isLevelEnabled('debug')) {
      this.deps.logger.debug(
        { deliveryId: job.id, webhookId: job.webhookId, attempt: number, status: result.status, error: result.error, durationMs: result.durationMs },
        'webhook attempt',
      );
    }
    return this.outcomeOf(job, number, result);
  }

  private outcomeOf(job: Job, number: number, result: AttemptResult): AttemptOutcome {
    const { status, nextAttemptAt, webhookEffect } = this.decide(number, result);
    return {
      delivery: { id: job.id, accountId: job.accountId, webhookId: job.webhookId, eventId: job.eventId },
      number,
      sent: true,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      responseStatus: result.status,
      responseBody: result.body,
      error: result.error,
      status,
      nextAttemptAt,
      webhookEffect,
    };
  }

  /** 2xx succeeds; 410 ends it and disables the webhook; anything else retries until the schedule runs out. */
  private decide(number: number, result: AttemptResult): Pick<AttemptOutcome, 'status' | 'nextAttemptAt' | 'webhookEffect'> {
    const status = result.status;
    if (status !== null && status >= 200 && status < 300) return { status: DeliveryStatus.SUCCEEDED, nextAttemptAt: null, webhookEffect: 'succeeded' };
    if (status === 410) return { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'gone' };
    const now = this.deps.clock.now();
    const delay = this.retries.delayAfter(number, { status, retryAfter: result.retryAfter, now });
    if (delay === null) return { status: DeliveryStatus.FAILED, nextAttemptAt: null, webhookEffect: 'failed' };
    return { status: DeliveryStatus.PENDING, nextAttemptAt: new Date(now.getTime() + delay), webhookEffect: 'none' };
  }

  /** A delivery that cannot be sent ends FAILED with the reason, without touching the webhook's count. */
  private unsent(job: Job, number: number, error: string): AttemptOutcome {
    return {
      delivery: { id: job.id, accountId: job.accountId, webhookId: job.webhookId, eventId: job.eventId },
      number,
      sent: false,
      startedAt: this.deps.clock.now(),
      durationMs: 0,
      responseStatus: null,
      responseBody: null,
      error,
      status: DeliveryStatus.FAILED,
      nextAttemptAt: null,
      webhookEffect: 'none',
    };
  }

  private record(job: Job, outcome: AttemptOutcome | null): void {
    if (!outcome) {
      this.held.delete(job.id);
      return;
    }
    this.recorder.record(outcome).then(
      (applied) => {
        if (!applied || outcome.status !== DeliveryStatus.PENDING || this.stopping) {
          this.held.delete(job.id);
          return;
        }
        this.scheduleAt({ ...job, event: undefined, attemptCount: outcome.number }, outcome.nextAttemptAt!);
      },
      (error: unknown) => {
        this.deps.logger.error({ err: error, deliveryId: job.id }, 'could not store a webhook attempt; it will be made again');
        this.retryLater(job);
      },
    );
  }

  /** Makes the same attempt again later (its outcome was never stored). */
  private retryLater(job: Job): void {
    if (this.stopping) {
      this.held.delete(job.id);
      return;
    }
    this.scheduleAt({ ...job, event: undefined }, new Date(this.deps.clock.now().getTime() + RECORD_FAILURE_RETRY_MS));
  }
}
