import { Agent } from 'undici';
import { delay, pace } from '../lib/pacer';
import { benchId, deliveryHeaders, sampleEventBody } from '../lib/webhook-wire';
import { serveParent } from '../lib/worker';

/**
 * The delivery baseline: what the service's sender does, with nothing else around it. Builds the
 * same body, signs it both ways and POSTs it with the service's HTTP client (undici's `Agent.dispatch`,
 * kept-alive connections, at most `concurrency` per origin), at most `concurrency` in flight, one event
 * fanned out to every target like one event to 20 webhooks.
 */
export interface SenderRun {
  /** Receiver URLs, one per simulated webhook. */
  targets: string[];
  secret: string;
  concurrency: number;
  durationMs: number;
  /** Fixed event rate (each event POSTed to every target); omitted = as fast as possible. */
  eventsPerSecond?: number;
}

export interface SenderReport {
  events: number;
  ok: number;
  failed: number;
  errors: string[];
}

interface Delivery {
  target: URL;
  eventId: string;
  body: string;
}

const ATTEMPT_TIMEOUT_MS = 10_000;

class Sender {
  private readonly queue: Delivery[] = [];
  private readonly agent: Agent;
  private readonly targets: URL[];
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];
  readonly report: SenderReport = { events: 0, ok: 0, failed: 0, errors: [] };

  constructor(
    private readonly run: SenderRun,
    /** While it returns true, a new event is made whenever the queue runs dry (as fast as possible). */
    private readonly endless?: () => boolean,
  ) {
    this.agent = new Agent({ connections: run.concurrency, pipelining: 1 });
    this.targets = run.targets.map((target) => new URL(target));
  }

  /** Queues one new event for every target, its `createdAt` now, and starts sending. */
  addEvent(): void {
    this.enqueueEvent();
    this.pump();
  }

  private enqueueEvent(): void {
    const eventId = benchId('evt');
    const body = sampleEventBody(eventId, new Date());
    this.report.events += 1;
    for (const target of this.targets) this.queue.push({ target, eventId, body });
  }

  private pump(): void {
    while (this.inFlight < this.run.concurrency) {
      if (this.queue.length === 0 && this.endless?.()) this.enqueueEvent();
      const delivery = this.queue.shift();
      if (!delivery) break;
      this.inFlight += 1;
      void this.post(delivery).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) this.idleWaiters.splice(0).forEach((wake) => wake());
      });
    }
  }

  private post(delivery: Delivery): Promise<void> {
    const headers = deliveryHeaders(this.run.secret, delivery.eventId, benchId('dlv'), delivery.body);
    const { origin, pathname } = delivery.target;
    return new Promise((resolve) => {
      let status = 0;
      const timer = setTimeout(() => cancel?.(new Error('timeout')), ATTEMPT_TIMEOUT_MS);
      let cancel: ((reason: Error) => void) | undefined;
      const settle = (failure?: string) => {
        clearTimeout(timer);
        if (failure) this.fail(failure);
        else if (status >= 200 && status < 300) this.report.ok += 1;
        else this.fail(`status ${status}`);
        resolve();
      };
      this.agent.dispatch(
        { origin, path: pathname, method: 'POST', headers, body: delivery.body },
        {
          onConnect: (abort: (reason: Error) => void) => {
            cancel = abort;
          },
          onHeaders: (statusCode: number) => {
            status = statusCode;
            return true;
          },
          onData: () => true,
          onComplete: () => settle(),
          onError: (error: Error) => settle(error.message),
        },
      );
    });
  }

  private fail(reason: string): void {
    this.report.failed += 1;
    if (this.report.errors.length < 5 && !this.report.errors.includes(reason)) this.report.errors.push(reason);
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.agent.destroy().catch(() => undefined);
  }
}

serveParent({
  async run(run: SenderRun): Promise<SenderReport> {
    let open = true;
    const sender = new Sender(run, run.eventsPerSecond ? undefined : () => open);
    if (run.eventsPerSecond) {
      await pace(run.eventsPerSecond, run.durationMs, () => sender.addEvent());
    } else {
      sender.addEvent();
      await delay(run.durationMs);
      open = false;
    }
    await Promise.race([sender.idle(), delay(ATTEMPT_TIMEOUT_MS)]);
    sender.close();
    return sender.report;
  },
});
