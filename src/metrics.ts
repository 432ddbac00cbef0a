import { Counter, Gauge, Histogram, collectDefaultMetrics, Registry } from 'prom-client';

export interface DeliveryLoad {
  queued: number;
  inFlight: number;
}

/**
 * Every Prometheus metric of one app instance, on its own registry so that two instances in one
 * process (as in tests) never share counters.
 */
export class Metrics {
  readonly registry = new Registry();

  /** Deliveries that ended, by outcome (`succeeded`, `failed`), plus `retried` for attempts that will retry. */
  readonly deliveries = new Counter({
    name: 'deskforge_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, failed (final), retried.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly recordFailures = new Counter({
    name: 'deskforge_webhook_record_failures_total',
    help: 'Times an attempt outcome could not be stored (each is retried with back-off while its lease holds).',
    registers: [this.registry],
  });

  readonly attemptDuration = new Histogram({
    name: 'deskforge_webhook_attempt_duration_seconds',
    help: 'Duration of one webhook HTTP attempt, connect to response.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  /** Read when metrics are scraped, not set per attempt: see `watchDeliveryLoad`. */
  private deliveryLoad: () => DeliveryLoad = () => ({ queued: 0, inFlight: 0 });

  readonly queueSize: Gauge = new Gauge({
    name: 'deskforge_webhook_queue_size',
    help: 'Deliveries this worker has claimed and not yet started (the backlog itself is in the database).',
    registers: [this.registry],
    collect: () => this.queueSize.set(this.deliveryLoad().queued),
  });

  readonly inFlight: Gauge = new Gauge({
    name: 'deskforge_webhook_attempts_in_flight',
    help: 'Webhook HTTP attempts under way.',
    registers: [this.registry],
    collect: () => this.inFlight.set(this.deliveryLoad().inFlight),
  });

  readonly subscriptionsActive = new Gauge({
    name: 'deskforge_subscriptions_active',
    help: 'GraphQL subscriptions currently open.',
    registers: [this.registry],
  });

  readonly subscribersDropped = new Counter({
    name: 'deskforge_subscribers_dropped_total',
    help: 'WebSocket connections closed (1013) because a subscription fell a whole buffer behind.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'deskforge_' });
  }

  /** The delivery engine's queue and in-flight counts, read at each scrape. */
  watchDeliveryLoad(load: () => DeliveryLoad): void {
    this.deliveryLoad = load;
  }
}
