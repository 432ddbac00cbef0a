import { randomBytes } from 'node:crypto';
import { Clock } from '../clock';
import { CoalescingRun } from '../coalescing-run';
import { WebhookConfig } from '../config';
import { Database } from '../db/database';
import { EventBus, Unsubscribe } from '../event-bus';
import { ChangeLog } from '../feed/change-log';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { Resolver } from '../webhooks/url-policy';
import { decideOutcome, deliveryHeaders, previousSecretInForce } from './attempt-plan';
import { AttemptOutcome, DeliveryRecorder } from './delivery-recorder';
import { DeliveryStatus } from './delivery-status';
import { ClaimedDelivery, DeliveryQueue, LocalWorker } from './delivery-queue';
import { Lease } from './delivery.queries';
import { EndpointHealth } from './endpoint-health';
import { FairSlots, healthyReserve } from './fair-slots';
import { RetryPolicy } from './retry-policy';
import { Sender } from './sender';
import { WebhookCache } from './webhook-cache';

/**
 * A worker holds up to this many times its attempt slots in claimed deliveries (running, or ready
 * to start the moment a slot frees), so that claiming, a write transaction that waits its turn
 * behind outcome batches and mutations, overlaps with attempts instead of standing between them.
 * Measured on 1,000 events × 20 webhooks in one process (2 cores, 2026-12-01): with 2 the worker
 * averaged 17 of its 45 slots and drained a backlog at ~3,000/s; with 8, 31 slots and ~4,600/s.
 * Under the delivery benchmark (2026-12-02) a window of 8 ran dry while each claim waited behind an
 * outcome batch (its 45 slots idle about a third of the time): 24 gave 3,804–3,813/s where 8 gave
 * 3,012/s (medians of 3, side by side); 48 gave no more. At the defaults that is 1,200 rows in memory.
 */
const PREFETCH = 24;
/** What a claimed delivery's lease must still have beyond the attempt timeout for it to start (storing takes a moment). */
const LEASE_MARGIN_MS = 2_000;
/** Finished attempts waiting to be stored beyond which new attempts wait (bounds memory; ~1 KB each). */
const MAX_UNRECORDED = 5_000;

/** What the dispatcher needs of the database queue: due webhooks, claims, and giving leases back. */
export type DispatcherQueue = Pick<DeliveryQueue, 'dueWebhooks' | 'claim' | 'release'>;
/** What the dispatcher needs of the HTTP sender. */
export type DispatcherSender = Pick<Sender, 'send' | 'abortAll' | 'close'>;
/** What the dispatcher needs of the outcome store. */
export type DispatcherRecorder = Pick<DeliveryRecorder, 'record' | 'backlog' | 'room' | 'flush'>;
/** What the dispatcher needs of the webhook settings it sends with. */
export type DispatcherWebhooks = Pick<WebhookCache, 'get' | 'invalidate'>;

/**
 * The parts a dispatcher works through, passed in (as Convoy's delivery task gets its repositories)
 * so a test can run it over fakes; `defaultDispatcherParts` builds the real ones.
 */
export interface DispatcherParts {
  queue: DispatcherQueue;
  sender: DispatcherSender;
  recorder: DispatcherRecorder;
  webhooks: DispatcherWebhooks;
  retries: RetryPolicy;
}

export interface DispatcherDependencies extends DispatcherParts {
  /** Where the dispatcher hears of webhook changes (for its cache). */
  bus: EventBus;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  config: WebhookConfig;
  /** This process's name as a lease owner: the queue's, so handed-over deliveries are its own. */
  owner: string;
  /** How long `stop()` lets in-flight attempts finish before cutting them off. */
  shutdownGraceMs: number;
}

export interface DefaultDispatcherPartsDependencies {
  db: Database;
  /** Where stored outcomes are announced to every process. */
  changes: ChangeLog;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** DNS for the send-time SSRF check. */
  resolve: Resolver;
  /** [0, 1) for the retry jitter. */
  random: () => number;
  config: WebhookConfig;
  /** This process's name as a lease owner. */
  owner: string;
}

/** The real parts: the database queue and recorder, the undici sender, the webhook cache and the configured retries. */
export function defaultDispatcherParts(deps: DefaultDispatcherPartsDependencies): DispatcherParts {
  const { config } = deps;
  return {
    queue: new DeliveryQueue(deps.db, deps.clock, deps.owner, config.leaseMs),
    sender: new Sender({
      timeoutMs: config.timeoutMs,
      allowPrivateUrls: config.allowPrivateUrls,
      resolve: deps.resolve,
      clock: deps.clock,
      connectionsPerOrigin: config.concurrency,
    }),
    recorder: new DeliveryRecorder(deps.db, deps.changes, deps.clock, deps.metrics, deps.logger, {
      windowMs: config.recordWindowMs,
      disableAfterFailures: config.disableAfterFailures,
    }),
    webhooks: new WebhookCache(deps.db.serviceReader),
    retries: new RetryPolicy(config.retryDelaysMs, deps.random),
  };
}

/**
 * A worker: claims due deliveries from the database queue (`DeliveryQueue`), attempts them and
 * stores their outcomes (`DeliveryRecorder`). It holds in memory only a window of claimed
 * deliveries: at most `PREFETCH × concurrency`, of which `concurrency` run at once, both shared
 * (`FairSlots`) in two lanes, so webhooks that are timing out or failing (`EndpointHealth`) leave a
 * reserve to those that answer, and fairly between accounts, then webhooks. A retry is a row with a
 * due time, found by a later claim, never a timer here.
 *
 * It claims when woken (`wake()`: this process committed due deliveries, or an attempt ended and
 * freed a slot) and every `pollMs` otherwise, which finds what other processes committed, retries
 * that fell due, and leases that ran out.
 */
export class Dispatcher implements LocalWorker {
  /** Attempts running. */
  private readonly slots: FairSlots;
  /** Deliveries claimed (running or ready): what claims are dealt against. */
  private readonly held: FairSlots;
  /** Claimed deliveries waiting for a running slot, per webhook, oldest claim first. */
  private readonly ready = new Map<string, ClaimedDelivery[]>();
  /** Which webhooks are suspect (timing out, failing, not yet seen to answer): the lane of both `slots` and `held`. */
  private readonly health: EndpointHealth;
  /** A ready delivery whose lease has less left than this is let go instead of started. */
  private readonly startMarginMs: number;
  /** The lease token of deliveries handed over at commit (`handOff`): one per worker run. */
  private readonly handOffToken = randomBytes(12).toString('base64url');
  private readonly queue: DispatcherQueue;
  private readonly sender: DispatcherSender;
  private readonly recorder: DispatcherRecorder;
  private readonly webhooks: DispatcherWebhooks;
  private readonly retries: RetryPolicy;
  /** Attempts under way (the HTTP exchange; the storing of its outcome goes on beside). */
  private readonly running = new Map<string, { delivery: ClaimedDelivery; done: Promise<void> }>();
  /** Outcomes being stored, retried with back-off while that fails. */
  private readonly storing = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private subscriptions: Unsubscribe[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly claims = new CoalescingRun(() => this.pump());
  private started = false;
  private stopping: Promise<void> | undefined;
  /** The last claim failed (the database is away): logged once until one works again. */
  private claimsFailing = false;

  constructor(private readonly deps: DispatcherDependencies) {
    const { config } = deps;
    this.health = new EndpointHealth(deps.clock);
    const untrusted = (webhookId: string, holding: number) => this.health.untrusted(webhookId, holding);
    const reserve = healthyReserve(config.concurrency);
    this.slots = new FairSlots({ concurrency: config.concurrency, perWebhook: config.endpointConcurrency, reserve }, untrusted);
    // Never more than half of what the lease has beyond the timeout, so a fresh claim always starts.
    this.startMarginMs = config.timeoutMs + Math.min(LEASE_MARGIN_MS, (config.leaseMs - config.timeoutMs) / 2);
    this.held = new FairSlots(
      { concurrency: PREFETCH * config.concurrency, perWebhook: PREFETCH * config.endpointConcurrency, reserve: PREFETCH * reserve },
      untrusted,
    );
    this.queue = deps.queue;
    this.sender = deps.sender;
    this.recorder = deps.recorder;
    this.webhooks = deps.webhooks;
    this.retries = deps.retries;
    deps.metrics.watchDeliveryLoad(() => ({ queued: this.queued, inFlight: this.inFlight }));
  }

  /** Starts claiming: now, when woken, and every `pollMs`. Reads nothing of the backlog beforehand. */
  async start(): Promise<void> {
    this.started = true;
    this.subscriptions = [this.deps.bus.subscribe('webhook', (change) => this.forgetWebhook(change.id))];
    this.pollTimer = setInterval(() => this.wake(), this.deps.config.pollMs).unref();
    this.wake();
    this.deps.logger.info({ owner: this.deps.owner }, 'delivery worker started');
  }

  handOff(): { leaseFor(accountId: string, webhookId: string): Lease | null } {
    const room = this.held.promises();
    const lease: Lease = {
      owner: this.deps.owner,
      token: this.handOffToken,
      expiresAt: new Date(this.deps.clock.now().getTime() + this.deps.config.leaseMs),
    };
    return { leaseFor: (accountId, webhookId) => (this.started && !this.stopping && room(webhookId, accountId) ? lease : null) };
  }

  accept(deliveries: ClaimedDelivery[]): void {
    if (this.stopping) return; // their leases run out, and they are due again
    for (const delivery of deliveries) this.hold(delivery);
    this.startReady();
  }

  /** Forgets a webhook's cached settings (a change committed in this process: no need to wait for the feed). */
  forgetWebhook(id: string): void {
    this.webhooks.invalidate(id);
    this.health.forget(id);
  }

  /** Claims what is due now, as far as slots allow (or right after the claim under way). */
  wake(): void {
    if (this.started && !this.stopping) this.claims.trigger();
  }

  /**
   * Stops claiming; attempts in flight may finish within `shutdownGraceMs`, then are cut off; their
   * leases are given back, so another worker (or the next start) attempts them at once; outcomes
   * being stored are flushed.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const unsubscribe of this.subscriptions) unsubscribe();
      clearInterval(this.pollTimer);
      await this.claims.running;
      const unstarted = [...this.ready.values()].flat();
      this.ready.clear();
      await this.queue
        .release(unstarted)
        .catch((error: unknown) =>
          this.deps.logger.warn({ err: error }, 'could not give back unstarted deliveries; their leases run out by themselves'),
        );
      const inFlight = [...this.running.values()];
      if (inFlight.length > 0) {
        this.deps.logger.info({ inFlight: inFlight.length }, 'waiting for in-flight webhook attempts');
        let graceTimer: NodeJS.Timeout | undefined;
        const grace = new Promise<'late'>((resolve) => (graceTimer = setTimeout(() => resolve('late'), this.deps.shutdownGraceMs)));
        const settled = await Promise.race([Promise.allSettled(inFlight.map((attempt) => attempt.done)), grace]);
        clearTimeout(graceTimer);
        if (settled === 'late') {
          const cut = [...this.running.values()].map((attempt) => attempt.delivery);
          this.deps.logger.warn({ inFlight: cut.length }, 'cutting off webhook attempts still in flight');
          this.sender.abortAll();
          await Promise.allSettled(inFlight.map((attempt) => attempt.done));
          await this.queue
            .release(cut)
            .catch((error: unknown) =>
              this.deps.logger.warn({ err: error }, 'could not give back the leases of cut-off attempts; they run out by themselves'),
            );
        }
      }
      for (const wait of this.waits) {
        clearTimeout(wait.timer);
        wait.resolve();
      }
      await Promise.allSettled([...this.storing]);
      await this.recorder.flush();
      this.sender.close();
    })();
    return this.stopping;
  }

  /** Deliveries claimed and waiting for a slot (at most `PREFETCH − 1` times the slots). */
  get queued(): number {
    let count = 0;
    for (const waiting of this.ready.values()) count += waiting.length;
    return count;
  }

  /** Attempts under way. */
  get inFlight(): number {
    return this.running.size;
  }

  private async pump(): Promise<void> {
    try {
      while (!this.stopping && this.held.free > 0) {
        const grants = this.held.allocate(await this.queue.dueWebhooks(this.held.saturated()));
        this.claimsRecovered();
        if (grants.size === 0 || this.stopping) return;
        const claimed = await this.queue.claim(grants);
        if (this.stopping) {
          await this.queue.release(claimed);
          return;
        }
        for (const delivery of claimed) this.hold(delivery);
        this.startReady();
        let granted = 0;
        for (const count of grants.values()) granted += count;
        // Fewer than granted: nothing more is due for those webhooks now.
        if (claimed.length < granted) return;
      }
    } catch (error) {
      // Logged once per outage (a database restart would otherwise log every poll).
      if (!this.claimsFailing) this.deps.logger.warn({ err: error }, 'could not claim deliveries; trying again at every poll');
      this.claimsFailing = true;
    }
  }

  private claimsRecovered(): void {
    if (this.claimsFailing) this.deps.logger.info('claiming deliveries again');
    this.claimsFailing = false;
  }

  private hold(delivery: ClaimedDelivery): void {
    this.held.take(delivery.webhookId, delivery.accountId);
    const waiting = this.ready.get(delivery.webhookId);
    if (waiting) waiting.push(delivery);
    else this.ready.set(delivery.webhookId, [delivery]);
  }

  /** Starts ready deliveries as the slots are dealt (lanes, then accounts, then webhooks). */
  private startReady(): void {
    let letGo = true;
    while (letGo && this.ready.size > 0 && this.slots.free > 0) {
      letGo = false;
      const due = [...this.ready.values()].map(([first]) => ({ webhookId: first.webhookId, accountId: first.accountId }));
      for (const [webhookId, count] of this.slots.allocate(due)) {
        const waiting = this.ready.get(webhookId)!;
        for (let started = 0; started < count && waiting.length > 0;) {
          const next = waiting.shift()!;
          // A delivery that waited (behind a slow endpoint) until its lease could run out mid-attempt
          // is let go: it is due again at its lease's end, for whichever worker claims it.
          if (next.leaseExpiresAt.getTime() - this.deps.clock.now().getTime() < this.startMarginMs) {
            this.held.release(next.webhookId, next.accountId);
            letGo = true;
            continue;
          }
          this.begin(next);
          started += 1;
        }
        if (waiting.length === 0) this.ready.delete(webhookId);
      }
    }
  }

  private begin(delivery: ClaimedDelivery): void {
    this.slots.take(delivery.webhookId, delivery.accountId);
    const done = this.attempt(delivery, this.health.started(delivery.webhookId)).finally(() => {
      this.running.delete(delivery.id);
      this.slots.release(delivery.webhookId, delivery.accountId);
      this.held.release(delivery.webhookId, delivery.accountId);
      this.startReady();
      this.wake();
    });
    this.running.set(delivery.id, { delivery, done });
  }

  /** Makes the attempt that started at `startedAt` (for `EndpointHealth`), then stores its outcome. */
  private async attempt(delivery: ClaimedDelivery, startedAt: number): Promise<void> {
    let outcome: AttemptOutcome | null = null;
    try {
      outcome = await this.perform(delivery);
    } catch (error) {
      // Its lease runs out and the delivery is attempted again.
      this.deps.logger.error({ err: error, deliveryId: delivery.id }, 'webhook attempt failed unexpectedly');
      return;
    } finally {
      this.health.ended(delivery.webhookId, startedAt, outcome?.sent ? outcome.status === DeliveryStatus.SUCCEEDED : null);
    }
    if (!outcome) return;
    const storing = this.store(delivery, outcome).finally(() => this.storing.delete(storing));
    this.storing.add(storing);
    // When the database falls behind, the slot is held until it catches up, so finished attempts
    // never pile up in memory faster than they are stored.
    if (this.recorder.backlog >= MAX_UNRECORDED) await this.recorder.room(MAX_UNRECORDED);
  }

  /** Makes one attempt; null when there is nothing to store (cut off at shutdown). */
  private async perform(delivery: ClaimedDelivery): Promise<AttemptOutcome | null> {
    const number = delivery.attemptCount + 1;
    const webhook = await this.webhooks.get(delivery.webhookId);
    if (!webhook?.active) {
      const why = !webhook
        ? 'the webhook was deleted'
        : `the webhook is inactive${webhook.disabledReason ? ` (${webhook.disabledReason})` : ''}`;
      return this.unsent(delivery, number, `not sent: ${why}`);
    }
    const now = this.deps.clock.now();
    const result = await this.sender.send({
      url: webhook.url,
      body: delivery.payload,
      headers: deliveryHeaders({
        deliveryId: delivery.id,
        eventId: delivery.eventId,
        type: delivery.type,
        payload: delivery.payload,
        secret: webhook.secret,
        previousSecret: previousSecretInForce(webhook, now),
        now,
      }),
    });
    if (result.aborted) return null;
    this.deps.metrics.attemptDuration.observe(result.durationMs / 1000);
    if (this.deps.logger.isLevelEnabled('debug')) {
      this.deps.logger.debug(
        {
          deliveryId: delivery.id,
          webhookId: delivery.webhookId,
          attempt: number,
          status: result.status,
          error: result.error,
          durationMs: result.durationMs,
        },
        'webhook attempt',
      );
    }
    return {
      delivery: { id: delivery.id, accountId: delivery.accountId, webhookId: delivery.webhookId, eventId: delivery.eventId },
      leaseToken: delivery.leaseToken,
      number,
      sent: true,
      startedAt: result.startedAt,
      durationMs: result.durationMs,
      responseStatus: result.status,
      responseBody: result.body,
      error: result.error,
      ...decideOutcome(number, result, this.retries, this.deps.clock.now()),
    };
  }

  /** A delivery that cannot be sent ends FAILED with the reason, without touching the webhook's count. */
  private unsent(delivery: ClaimedDelivery, number: number, error: string): AttemptOutcome {
    return {
      delivery: { id: delivery.id, accountId: delivery.accountId, webhookId: delivery.webhookId, eventId: delivery.eventId },
      leaseToken: delivery.leaseToken,
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

  /**
   * Stores the outcome, trying again with a doubling back-off (logged once per step, counted in
   * `deskforge_webhook_record_failures_total`) while the lease holds; past it the delivery is due
   * again anyway, and this outcome is dropped (the attempt is made again: at least once).
   */
  private async store(delivery: ClaimedDelivery, outcome: AttemptOutcome): Promise<void> {
    const { firstMs, maxMs } = this.deps.config.recordRetry;
    for (let wait = firstMs; ; wait = Math.min(wait * 2, maxMs)) {
      try {
        await this.recorder.record(outcome);
        return;
      } catch (error) {
        this.deps.metrics.recordFailures.inc();
        const giveUp = this.stopping !== undefined || this.deps.clock.now().getTime() + wait >= delivery.leaseExpiresAt.getTime();
        this.deps.logger.warn(
          { err: error, deliveryId: delivery.id, retryInMs: giveUp ? null : wait },
          giveUp
            ? 'could not store a webhook attempt; it will be made again once its lease runs out'
            : 'could not store a webhook attempt; trying again',
        );
        if (giveUp) return;
        await this.pause(wait);
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wait = {
        resolve,
        timer: setTimeout(() => {
          this.waits.delete(wait);
          resolve();
        }, ms),
      };
      this.waits.add(wait);
    });
  }
}
