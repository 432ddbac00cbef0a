import { randomUUID } from 'node:crypto';
import { Worker } from '../lib/children';
import { EVENTS_SUBSCRIPTION, QUEUE_BUILD } from '../lib/documents';
import { errorMessage } from '../lib/error-message';
import { FigureSpec, ratioAtLeast, ratioAtMost, valueAtLeast, valueAtMost } from '../lib/figures';
import { graphqlRequest } from '../lib/graphql-client';
import { captureEventMessage } from '../lib/live-probe';
import { pollUntil } from '../lib/pacer';
import { MIB, RssSampler } from '../lib/rss';
import { formatValue } from '../lib/report';
import { createProject, Service } from '../lib/service';
import { arrivalsBetween, countedWindowMs, LatencyHistogram } from '../lib/stats';
import { benchId } from '../lib/webhook-wire';
import type { MutationReport } from '../processes/mutation-client';
import type { ConnectArgs, ConnectReport, SubscribersSnapshot } from '../processes/subscribers';
import { LoadReport, Scenario, ScenarioContext } from './scenario';

/**
 * Figure 3 (subscription fan-out) and the RSS with many subscribers of figure 5: N graphql-ws
 * clients subscribed to `events` while mutations make events at a fixed rate; messages received per
 * second, the share delivered, and createdAt → receipt percentiles. Baseline: a bare `ws` server
 * broadcasting the same bytes at the same rate to the same number of clients in the same processes.
 */
const EVENTS_PER_SECOND = 20;
/** Client sockets per subscriber process. */
const SOCKETS_PER_PROCESS = 1_250;

/**
 * `warmUpMs`: the same load, before each measured window, for the baseline and the service alike.
 * The first second or so after subscribing runs a cold path on both sides (JIT, first writes); from
 * the first event, a run's p99 was that transient rather than the steady state: on 2026-12-02 the
 * service's 1,000-subscriber p99 was 63–154 ms cold and 38–42 ms after 3 s of the same load, the
 * bare broadcast's 26–47 ms either way (bench/README.md).
 */
const SETTINGS = {
  full: { sizes: [1_000, 5_000], windowMs: 10_000, drainMs: 10_000, warmUpMs: 3_000 },
  quick: { sizes: [200, 1_000], windowMs: 3_000, drainMs: 5_000, warmUpMs: 1_000 },
};

function settingsOf(quick: boolean) {
  return quick ? SETTINGS.quick : SETTINGS.full;
}

function figuresOf(quick: boolean): FigureSpec[] {
  const [small, large] = settingsOf(quick).sizes;
  const bare = 'bare ws broadcast, same bytes and clients';
  return [
    { id: `fanout.${small}.rate`, label: `fan-out ${small} subscribers, messages/s`, unit: 'per-second', baseline: bare },
    {
      id: `fanout.${small}.delivered`,
      label: `fan-out ${small} subscribers, delivered`,
      unit: 'percent',
      baseline: bare,
      target: valueAtLeast(100, '100% delivered'),
    },
    { id: `fanout.${small}.p50`, label: `fan-out ${small} subscribers, latency p50`, unit: 'ms', baseline: bare },
    { id: `fanout.${small}.p99`, label: `fan-out ${small} subscribers, latency p99`, unit: 'ms', baseline: bare, target: ratioAtMost(2) },
    {
      id: `fanout.${large}.rate`,
      label: `fan-out ${large} subscribers, messages/s`,
      unit: 'per-second',
      baseline: bare,
      target: ratioAtLeast(0.5),
    },
    { id: `fanout.${large}.delivered`, label: `fan-out ${large} subscribers, delivered`, unit: 'percent', baseline: bare },
    { id: `fanout.${large}.p50`, label: `fan-out ${large} subscribers, latency p50`, unit: 'ms', baseline: bare },
    { id: `fanout.${large}.p99`, label: `fan-out ${large} subscribers, latency p99`, unit: 'ms', baseline: bare },
    {
      id: `memory.subscribers${large}`,
      label: `server RSS with ${large} subscribers`,
      unit: 'bytes',
      baseline: 'same server before they connected',
      target: valueAtMost(200 * MIB, '≤ 200 MiB'),
    },
    {
      id: `memory.fanout${large}.peak`,
      label: `server RSS peak during fan-out ${large}`,
      unit: 'bytes',
      baseline: 'same server before they connected',
    },
  ];
}

/** Subscriber processes sharing `size` sockets. */
class SubscriberGroup {
  private constructor(
    private readonly workers: Array<{ worker: Worker; count: number }>,
    readonly size: number,
  ) {}

  static async start(context: ScenarioContext, size: number): Promise<SubscriberGroup> {
    const processes = Math.ceil(size / SOCKETS_PER_PROCESS);
    const workers = [];
    for (let i = 0; i < processes; i++) {
      const count = Math.floor(size / processes) + (i < size % processes ? 1 : 0);
      workers.push({ worker: await context.scope.worker('subscribers', { openFiles: count + 200 }), count });
    }
    return new SubscriberGroup(workers, size);
  }

  private all<T>(cmd: string, args?: (count: number) => unknown, timeoutMs?: number): Promise<T[]> {
    return Promise.all(this.workers.map(({ worker, count }) => worker.request<T>(cmd, args?.(count), timeoutMs)));
  }

  /** Connects every socket; throws unless all of them connected. */
  async connect(args: Omit<ConnectArgs, 'count'>): Promise<void> {
    const reports = await this.all<ConnectReport>('connect', (count) => ({ ...args, count }), 120_000);
    const failed = reports.reduce((sum, r) => sum + r.failed, 0);
    if (failed > 0) {
      await this.disconnect();
      throw new Error(
        `${failed} of ${this.size} ${args.mode} subscribers failed to connect: ${[...new Set(reports.flatMap((r) => r.errors))].join('; ')}`,
      );
    }
  }

  /** Waits until every subscriber got at least `messages` messages. */
  async waitForEach(messages: number, timeoutMs: number, what: string): Promise<void> {
    await pollUntil(
      async () => ((await this.all<{ min: number }>('progress')).every((p) => p.min >= messages) ? true : undefined),
      timeoutMs,
      `not every subscriber received ${what} within ${timeoutMs / 1000} s`,
      50,
    );
  }

  async total(): Promise<number> {
    return (await this.all<{ total: number }>('progress')).reduce((sum, p) => sum + p.total, 0);
  }

  async reset(): Promise<void> {
    await this.all('reset');
  }

  snapshots(): Promise<SubscribersSnapshot[]> {
    return this.all<SubscribersSnapshot>('snapshot');
  }

  async disconnect(): Promise<void> {
    await this.all('disconnect');
  }
}

interface FanoutResult {
  rate: number;
  delivered: number;
  p50?: number;
  p99?: number;
  notes: Record<string, unknown>;
}

/**
 * Counts from a reset group while `load` makes events for `windowMs`, then lets the backlog drain
 * (until everything arrived, nothing moved for 2 s, or `drainMs`).
 */
async function measureFanout(
  group: SubscriberGroup,
  windowMs: number,
  drainMs: number,
  load: () => Promise<LoadReport>,
): Promise<FanoutResult> {
  await group.reset();
  const from = Date.now();
  const { events, ...loadNotes } = await load();
  const to = from + windowMs;
  const expected = events * group.size;
  let last = -1;
  let lastChange = Date.now();
  const drainDeadline = Date.now() + drainMs;
  await pollUntil(
    async () => {
      const total = await group.total();
      if (total !== last) [last, lastChange] = [total, Date.now()];
      return total >= expected || Date.now() - lastChange > 2_000 || Date.now() > drainDeadline ? true : undefined;
    },
    drainMs + 5_000,
    'subscriber counts did not settle',
  );
  const snapshots = await group.snapshots();
  const histogram = new LatencyHistogram();
  for (const snapshot of snapshots) histogram.merge(snapshot.latency);
  const received = snapshots.reduce((sum, s) => sum + s.received, 0);
  return {
    rate:
      (arrivalsBetween(
        snapshots.map((s) => s.arrivals),
        from,
        to,
      ) *
        1000) /
      countedWindowMs(from, to),
    delivered: expected ? (100 * received) / expected : 0,
    p50: histogram.percentile(50),
    p99: histogram.percentile(99),
    notes: {
      events,
      ...loadNotes,
      expected,
      received,
      fewestPerSubscriber: Math.min(...snapshots.map((s) => s.minPerSubscriber)),
      mostPerSubscriber: Math.max(...snapshots.map((s) => s.maxPerSubscriber)),
      lostSockets: snapshots.reduce((sum, s) => sum + s.lost, 0),
      errors: [...new Set(snapshots.flatMap((s) => s.errors))],
    },
  };
}

/** A `next` message of the shape the service sends, for when it could not be captured. */
function syntheticEventMessage(): string {
  const projectId = benchId('proj');
  return JSON.stringify({
    id: randomUUID(),
    type: 'next',
    payload: {
      data: {
        events: {
          id: benchId('evt'),
          type: 'BUILD_QUEUED',
          createdAt: new Date().toISOString(),
          data: {
            project: { id: projectId, name: 'Bench Desktop App' },
            build: { id: benchId('build'), version: '1.0.0', platform: 'MAC', arch: 'ARM64', status: 'QUEUED' },
          },
        },
      },
    },
  });
}

function summaryOf(result: FanoutResult): string {
  return `${formatValue(result.rate, 'per-second')} messages, ${formatValue(result.delivered, 'percent')} delivered, p50 ${formatValue(result.p50, 'ms')}, p99 ${formatValue(result.p99, 'ms')}`;
}

function record(context: ScenarioContext, prefix: string, part: 'baseline' | 'value', result: FanoutResult): void {
  const set = part === 'baseline' ? context.figures.baseline.bind(context.figures) : context.figures.value.bind(context.figures);
  set(`${prefix}.rate`, result.rate, result.notes);
  set(`${prefix}.delivered`, result.delivered);
  set(`${prefix}.p50`, result.p50);
  set(`${prefix}.p99`, result.p99);
}

async function runSize(
  context: ScenarioContext,
  size: number,
  env: {
    service: Service;
    projectId: string;
    broadcaster: Worker;
    broadcastUrl: string;
    mutations: Worker;
    template: string;
    templateError?: string;
  },
) {
  const { windowMs, drainMs, warmUpMs } = settingsOf(context.quick);
  const largest = Math.max(...settingsOf(context.quick).sizes);
  const prefix = `fanout.${size}`;
  const group = await SubscriberGroup.start(context, size);

  await group.connect({ url: env.broadcastUrl, mode: 'bare' });
  await env.broadcaster.request('once', { template: env.template });
  await group.waitForEach(1, 15_000, 'the first broadcast');
  const broadcast = (durationMs: number) =>
    env.broadcaster.request<{ events: number }>(
      'broadcast',
      { template: env.template, eventsPerSecond: EVENTS_PER_SECOND, durationMs },
      durationMs + 30_000,
    );
  await group.waitForEach(1 + (await broadcast(warmUpMs)).events, drainMs + 15_000, 'the warm-up broadcasts');
  const bare = await measureFanout(group, windowMs, drainMs, () => broadcast(windowMs));
  await group.disconnect();
  record(context, prefix, 'baseline', bare);
  context.log(`bare ws ${size}: ${summaryOf(bare)}`);

  if (env.templateError) throw new Error(env.templateError);
  const rssBefore = env.service.rssBytes();
  await group.connect({ url: env.service.wsUrl, mode: 'graphql-ws', apiKey: env.service.apiKey, query: EVENTS_SUBSCRIPTION });
  await graphqlRequest(env.service.url, env.service.apiKey, QUEUE_BUILD, {
    input: { projectId: env.projectId, version: 'warm-up', platform: 'MAC', arch: 'ARM64' },
  });
  await group.waitForEach(1, 30_000, 'the first event');
  const rssSubscribed = env.service.rssBytes();
  const mutate = (durationMs: number) =>
    env.mutations.request<MutationReport>(
      'run',
      { url: env.service.url, apiKey: env.service.apiKey, projectId: env.projectId, durationMs, eventsPerSecond: EVENTS_PER_SECOND },
      durationMs + 60_000,
    );
  await group.waitForEach(1 + (await mutate(warmUpMs)).events, drainMs + 30_000, 'the warm-up events');
  const sampler = new RssSampler(env.service.pid);
  const live = await measureFanout(group, windowMs, drainMs, async () => {
    const report = await mutate(windowMs);
    return { events: report.events, skippedMutations: report.skipped, failedMutations: report.failed };
  });
  const rss = sampler.stop();
  await group.disconnect();
  record(context, prefix, 'value', live);
  context.log(`service ${size}: ${summaryOf(live)}`);
  if (size === largest) {
    context.figures.baseline(`memory.subscribers${size}`, rssBefore);
    context.figures.value(`memory.subscribers${size}`, rssSubscribed);
    context.figures.baseline(`memory.fanout${size}.peak`, rssBefore);
    context.figures.value(`memory.fanout${size}.peak`, rss.peakBytes);
  }
}

async function run(context: ScenarioContext): Promise<void> {
  const { sizes } = settingsOf(context.quick);
  const service = await context.scope.service({ openFiles: Math.max(...sizes) + 1_000 });
  const projectId = await createProject(service);
  const mutations = await context.scope.worker('mutation-client');
  const broadcaster = await context.scope.worker('ws-broadcast-server', { openFiles: Math.max(...sizes) + 200 });
  const { port } = await broadcaster.request<{ port: number }>('listen');

  let template: string;
  let templateError: string | undefined;
  try {
    template = await captureEventMessage(service, projectId);
  } catch (error) {
    templateError = `subscriptions: ${errorMessage(error)}`;
    template = syntheticEventMessage();
    context.log(`${templateError} (the baseline runs with a synthetic message)`);
  }
  const env = { service, projectId, broadcaster, broadcastUrl: `ws://127.0.0.1:${port}/graphql`, mutations, template, templateError };
  const largest = Math.max(...sizes);
  for (const size of sizes) {
    try {
      await runSize(context, size, env);
    } catch (error) {
      for (const { id } of figuresOf(context.quick)) {
        if (id.startsWith(`fanout.${size}.`) || (size === largest && id.startsWith('memory.')))
          context.figures.fail(id, errorMessage(error));
      }
      context.log(`fan-out ${size} failed: ${errorMessage(error)}`);
    }
  }
}

export const fanoutScenario: Scenario = {
  id: 'fanout',
  description: 'graphql-ws subscription fan-out against a bare ws broadcast',
  budgetMs: (quick) => (quick ? 120_000 : 300_000),
  figures: figuresOf,
  run,
};
