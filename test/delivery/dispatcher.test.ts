import { WebhookConfig } from '../../src/config';
import { AttemptOutcome } from '../../src/delivery/delivery-recorder';
import { ClaimedDelivery } from '../../src/delivery/delivery-queue';
import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { Dispatcher, DispatcherQueue, DispatcherRecorder, DispatcherSender, DispatcherWebhooks } from '../../src/delivery/dispatcher';
import { RetryPolicy } from '../../src/delivery/retry-policy';
import { AttemptResult, OutgoingRequest } from '../../src/delivery/sender';
import { WebhookTarget } from '../../src/delivery/webhook-cache';
import { InProcessEventBus } from '../../src/event-bus';
import { EventType } from '../../src/events/event-type';
import { createLogger } from '../../src/logger';
import { Metrics } from '../../src/metrics';
import { ManualClock } from '../helpers/clock';
import { waitFor } from '../helpers/wait-for';

/**
 * The dispatcher over in-memory parts (after Convoy's delivery task test and Svix's memory queue):
 * no socket, no database. What it sends, what it stores and how it copes with a failing store.
 */

const config: WebhookConfig = {
  timeoutMs: 10_000,
  retryDelaysMs: [30_000],
  concurrency: 4,
  endpointConcurrency: 2,
  disableAfterFailures: 5,
  allowPrivateUrls: true,
  recordWindowMs: 0,
  leaseMs: 60_000,
  recordRetry: { firstMs: 1, maxMs: 1 },
  pollMs: 60_000,
  dispatch: true,
};

/** Due deliveries in memory: claims hand them out per webhook as granted. */
class MemoryQueue implements DispatcherQueue {
  readonly released: string[] = [];
  constructor(private readonly due: ClaimedDelivery[]) {}

  async dueWebhooks(skip: string[]) {
    const webhooks = new Map(this.due.filter((d) => !skip.includes(d.webhookId)).map((d) => [d.webhookId, d.accountId]));
    return [...webhooks].map(([webhookId, accountId]) => ({ webhookId, accountId }));
  }

  async claim(grants: Map<string, number>) {
    const claimed: ClaimedDelivery[] = [];
    for (const [webhookId, count] of grants) {
      const taken = this.due.filter((d) => d.webhookId === webhookId).slice(0, count);
      for (const delivery of taken) this.due.splice(this.due.indexOf(delivery), 1);
      claimed.push(...taken);
    }
    return claimed;
  }

  async release(deliveries: Array<Pick<ClaimedDelivery, 'id' | 'leaseToken'>>) {
    this.released.push(...deliveries.map((d) => d.id));
  }
}

class FakeSender implements DispatcherSender {
  readonly requests: OutgoingRequest[] = [];
  constructor(
    private readonly clock: ManualClock,
    private readonly status = 200,
  ) {}

  async send(request: OutgoingRequest): Promise<AttemptResult> {
    this.requests.push(request);
    return { startedAt: this.clock.now(), durationMs: 5, status: this.status, body: 'ok', error: null, retryAfter: null, aborted: false };
  }

  abortAll(): void {}
  close(): void {}
}

/** Stores outcomes in a list; the first `failures` calls reject as a database that is away would. */
class FakeRecorder implements DispatcherRecorder {
  readonly stored: AttemptOutcome[] = [];
  calls = 0;
  readonly backlog = 0;
  constructor(private failures = 0) {}

  async record(outcome: AttemptOutcome): Promise<boolean> {
    this.calls += 1;
    if (this.failures > 0) {
      this.failures -= 1;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    this.stored.push(outcome);
    return true;
  }

  async room(): Promise<void> {}
  async flush(): Promise<void> {}
}

const webhook: WebhookTarget = {
  id: 'wh_1',
  url: new URL('https://receiver.example/hook'),
  secret: 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0',
  previousSecret: null,
  previousSecretExpiresAt: null,
  active: true,
  disabledReason: null,
};
const webhooks: DispatcherWebhooks = { get: async (id) => (id === webhook.id ? webhook : null), invalidate: () => {} };

function claimed(clock: ManualClock, id: string, overrides: Partial<ClaimedDelivery> = {}): ClaimedDelivery {
  return {
    id,
    accountId: 'acc_1',
    webhookId: 'wh_1',
    eventId: `evt_${id}`,
    attemptCount: 0,
    leaseToken: 'token-1',
    leaseExpiresAt: new Date(clock.now().getTime() + config.leaseMs),
    type: EventType.PROJECT_CREATED,
    payload: `{"id":"evt_${id}"}`,
    ...overrides,
  };
}

function dispatcherOver(parts: { queue: MemoryQueue; sender: FakeSender; recorder: FakeRecorder; clock: ManualClock; metrics?: Metrics }) {
  return new Dispatcher({
    queue: parts.queue,
    sender: parts.sender,
    recorder: parts.recorder,
    webhooks,
    retries: new RetryPolicy(config.retryDelaysMs, () => 0.5),
    bus: new InProcessEventBus(() => {}),
    clock: parts.clock,
    logger: createLogger('silent'),
    metrics: parts.metrics ?? new Metrics(),
    config,
    owner: 'test-worker',
    shutdownGraceMs: 1_000,
  });
}

describe('Dispatcher over in-memory parts', () => {
  it('claims a due delivery, sends it with its headers and stores the outcome under its lease', async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue([claimed(clock, 'dlv_1', { attemptCount: 1, leaseToken: 'lease-a' })]);
    const sender = new FakeSender(clock);
    const recorder = new FakeRecorder();
    const dispatcher = dispatcherOver({ queue, sender, recorder, clock });
    await dispatcher.start();
    try {
      await waitFor(() => recorder.stored.length === 1, { what: 'the stored outcome' });
      expect(sender.requests).toHaveLength(1);
      expect(sender.requests[0].url).toBe(webhook.url);
      expect(sender.requests[0].body).toBe('{"id":"evt_dlv_1"}');
      expect(sender.requests[0].headers).toMatchObject({ 'x-deskforge-delivery': 'dlv_1', 'webhook-id': 'evt_dlv_1' });
      expect(recorder.stored[0]).toMatchObject({
        delivery: { id: 'dlv_1', webhookId: 'wh_1', eventId: 'evt_dlv_1' },
        leaseToken: 'lease-a',
        number: 2,
        sent: true,
        responseStatus: 200,
        status: DeliveryStatus.SUCCEEDED,
        nextAttemptAt: null,
        webhookEffect: 'succeeded',
      });
    } finally {
      await dispatcher.stop();
    }
    expect(queue.released).toEqual([]);
  });

  it('stores a failed attempt as a retry due after the policy delay', async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue([claimed(clock, 'dlv_1')]);
    const recorder = new FakeRecorder();
    const dispatcher = dispatcherOver({ queue, sender: new FakeSender(clock, 500), recorder, clock });
    await dispatcher.start();
    try {
      await waitFor(() => recorder.stored.length === 1, { what: 'the stored outcome' });
      expect(recorder.stored[0]).toMatchObject({
        number: 1,
        responseStatus: 500,
        status: DeliveryStatus.PENDING,
        nextAttemptAt: new Date(clock.now().getTime() + 30_000),
        webhookEffect: 'none',
      });
    } finally {
      await dispatcher.stop();
    }
  });

  it('tries again to store an outcome while the store fails, without making the attempt again', async () => {
    const clock = new ManualClock();
    const metrics = new Metrics();
    const queue = new MemoryQueue([claimed(clock, 'dlv_1')]);
    const sender = new FakeSender(clock);
    const recorder = new FakeRecorder(2);
    const dispatcher = dispatcherOver({ queue, sender, recorder, clock, metrics });
    await dispatcher.start();
    try {
      await waitFor(() => recorder.stored.length === 1, { what: 'the outcome stored at the third try' });
      expect(recorder.calls).toBe(3);
      expect(sender.requests).toHaveLength(1);
      expect((await metrics.recordFailures.get()).values[0].value).toBe(2);
    } finally {
      await dispatcher.stop();
    }
  });

  it('lets a held delivery go instead of starting it when its lease could run out during the attempt', async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue([]);
    const sender = new FakeSender(clock);
    const recorder = new FakeRecorder();
    const dispatcher = dispatcherOver({ queue, sender, recorder, clock });
    const margin = config.timeoutMs + 2_000;
    dispatcher.accept([
      claimed(clock, 'dlv_late', { leaseExpiresAt: new Date(clock.now().getTime() + margin - 1) }),
      claimed(clock, 'dlv_ok', { leaseExpiresAt: new Date(clock.now().getTime() + margin) }),
    ]);
    await waitFor(() => recorder.stored.length === 1, { what: 'the outcome of the delivery with lease enough' });
    await dispatcher.stop();
    expect(sender.requests.map((request) => request.headers['x-deskforge-delivery'])).toEqual(['dlv_ok']);
    expect(dispatcher.queued).toBe(0);
  });
});
