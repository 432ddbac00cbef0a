import { DeliveryRig, driveBuilds, Receiver, startDeliveryRig, waitForArrivals, WEBHOOKS } from '../lib/delivery-load';
import { boundsVerdict, describeBounds, probed, startBoundsProbe } from '../lib/bounds';
import { Worker } from '../lib/children';
import { errorMessage } from '../lib/error-message';
import { FigureSpec, ratioAtLeast, ratioAtMost } from '../lib/figures';
import { formatValue } from '../lib/report';
import { arrivalsBetween, countedWindowMs, LatencyHistogram } from '../lib/stats';
import type { MutationReport } from '../processes/mutation-client';
import type { SenderReport, SenderRun } from '../processes/bare-sender';
import { LoadReport, Scenario, ScenarioContext } from './scenario';

/**
 * Figures 1 and 2 of the benchmark: delivery throughput (deliveries received per second with the
 * service driven as fast as it sustains) and delivery latency (event `createdAt` → receipt at 70% of
 * that rate), each right after the bare sender's run at the same concurrency to the same receiver.
 */
/** `WEBHOOK_CONCURRENCY`'s default: the service's attempts in flight. */
const CONCURRENCY = 50;
const LATENCY_LOAD = 0.7;
const BARE_SECRET = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

const SETTINGS = {
  full: { warmupMs: 2_000, windowMs: 15_000, latencyWarmupMs: 1_000, latencyWindowMs: 10_000 },
  quick: { warmupMs: 1_000, windowMs: 4_000, latencyWarmupMs: 500, latencyWindowMs: 3_000 },
};

const FIGURES: FigureSpec[] = [
  {
    id: 'delivery.throughput',
    label: 'delivery throughput',
    unit: 'per-second',
    baseline: 'bare sender, same receiver, concurrency 50',
    target: ratioAtLeast(0.5),
  },
  { id: 'delivery.latency.p50', label: 'delivery latency p50 at 70% load', unit: 'ms', baseline: 'bare sender one-way, same rate' },
  {
    id: 'delivery.latency.p99',
    label: 'delivery latency p99 at 70% load',
    unit: 'ms',
    baseline: 'bare sender one-way, same rate',
    target: ratioAtMost(3),
  },
];

interface Phase extends DeliveryRig {
  sender: Worker;
  settings: (typeof SETTINGS)['full'];
}

function senderRun(phase: Phase, durationMs: number, eventsPerSecond?: number): SenderRun {
  return { targets: phase.receiver.targets, secret: BARE_SECRET, concurrency: CONCURRENCY, durationMs, eventsPerSecond };
}

/** Deliveries received per second in the window after the warm-up. */
async function throughputOf(receiver: Receiver, startedAt: number, settings: Phase['settings']): Promise<number> {
  const from = startedAt + settings.warmupMs;
  const to = from + settings.windowMs;
  const snapshot = await receiver.snapshot();
  return (arrivalsBetween([snapshot.arrivals], from, to) * 1000) / countedWindowMs(from, to);
}

async function bareThroughput(phase: Phase): Promise<{ rate: number; report: SenderReport }> {
  const { settings } = phase;
  const startedAt = Date.now();
  const report = await phase.sender.request<SenderReport>('run', senderRun(phase, settings.warmupMs + settings.windowMs), 60_000);
  if (report.ok === 0) throw new Error(`bare sender delivered nothing: ${report.errors.join('; ')}`);
  return { rate: await throughputOf(phase.receiver, startedAt, settings), report };
}

/** Also probes what bounds it over the drive (`bounds.ts`: CPU of each process and of PostgreSQL's server, its connections' waits). */
async function serviceThroughput(
  phase: Phase,
  scope: ScenarioContext['scope'],
): Promise<{ rate: number; report: MutationReport; missing: number; bounds: Record<string, unknown> }> {
  const { settings, receiver } = phase;
  const postgres = scope.host.postgres;
  const probe = await startBoundsProbe(
    [
      { label: 'service', pid: phase.service.pid, mainThread: true },
      { label: 'receiver', pid: receiver.worker.pid },
      { label: 'mutation client', pid: phase.mutations.pid },
    ],
    postgres ? { server: postgres, databaseUrl: phase.service.database.location } : undefined,
  );
  const base = await receiver.count();
  const startedAt = Date.now();
  const [report, bounds] = await probed(probe, driveBuilds(phase, { durationMs: settings.warmupMs + settings.windowMs }));
  const rate = await throughputOf(receiver, startedAt, settings);
  const expected = report.events * WEBHOOKS;
  const arrived = await waitForArrivals(receiver, base, expected);
  return {
    rate,
    report,
    missing: Math.max(0, expected - arrived),
    bounds: { ...bounds, verdict: boundsVerdict(bounds), line: describeBounds(bounds) },
  };
}

interface LatencyResult {
  p50?: number;
  p99?: number;
  notes: Record<string, unknown>;
}

/** Runs `load` at the latency rate and reads createdAt → receipt for events created in the window. */
async function latencyOf(phase: Phase, eventsPerSecond: number, load: (durationMs: number) => Promise<LoadReport>): Promise<LatencyResult> {
  const { settings, receiver } = phase;
  const from = Date.now() + settings.latencyWarmupMs;
  const to = from + settings.latencyWindowMs;
  await receiver.worker.request('latencyWindow', { from, to });
  const base = await receiver.count();
  const { events, ...loadNotes } = await load(settings.latencyWarmupMs + settings.latencyWindowMs);
  await waitForArrivals(receiver, base, events * WEBHOOKS);
  const histogram = LatencyHistogram.from((await receiver.snapshot()).latency);
  return {
    p50: histogram.percentile(50),
    p99: histogram.percentile(99),
    notes: {
      deliveriesPerSecond: Math.round(eventsPerSecond * WEBHOOKS),
      samples: histogram.count,
      expectedSamples: Math.round(((eventsPerSecond * settings.latencyWindowMs) / 1000) * WEBHOOKS),
      ...loadNotes,
    },
  };
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const settings = quick ? SETTINGS.quick : SETTINGS.full;
  const sender = await scope.worker('bare-sender');
  const phase: Phase = { ...(await startDeliveryRig(scope)), sender, settings };
  const { mutations, service, projectId } = phase;

  const bare = await bareThroughput(phase);
  figures.baseline('delivery.throughput', bare.rate, { events: bare.report.events, failed: bare.report.failed });
  log(`bare sender: ${bare.rate.toFixed(0)} deliveries/s`);

  let serviceRate: number | undefined;
  try {
    const measured = await serviceThroughput(phase, scope);
    serviceRate = measured.rate;
    figures.value('delivery.throughput', measured.rate, {
      events: measured.report.events,
      failedMutations: measured.report.failed,
      throttled: Number(measured.report.throttled.toFixed(2)),
      missingDeliveries: measured.missing,
      mutationErrors: measured.report.errors,
      bounds: measured.bounds,
    });
    log(`service: ${measured.rate.toFixed(0)} deliveries/s; ${measured.bounds.line}`);
  } catch (error) {
    figures.fail('delivery.throughput', errorMessage(error));
    log(`service throughput failed: ${errorMessage(error)}`);
  }

  if (serviceRate === undefined) {
    // "70% of that rate" has no meaning without the service's rate; the baseline waits for it too.
    figures.fail('delivery.latency.p50', 'needs the delivery throughput, which failed');
    figures.fail('delivery.latency.p99', 'needs the delivery throughput, which failed');
    return;
  }
  const deliveriesPerSecond = LATENCY_LOAD * serviceRate;
  const eventsPerSecond = deliveriesPerSecond / WEBHOOKS;
  const bareLatency = await latencyOf(phase, eventsPerSecond, (durationMs) =>
    sender.request<SenderReport>('run', senderRun(phase, durationMs, eventsPerSecond), durationMs + 60_000),
  );
  figures.baseline('delivery.latency.p50', bareLatency.p50, bareLatency.notes);
  figures.baseline('delivery.latency.p99', bareLatency.p99, bareLatency.notes);
  log(
    `bare sender at ${deliveriesPerSecond.toFixed(0)}/s: p50 ${formatValue(bareLatency.p50, 'ms')}, p99 ${formatValue(bareLatency.p99, 'ms')}`,
  );

  const serviceLatency = await latencyOf(phase, eventsPerSecond, async (durationMs) => {
    const report = await mutations.request<MutationReport>(
      'run',
      { url: service.url, apiKey: service.apiKey, projectId, durationMs, eventsPerSecond },
      durationMs + 60_000,
    );
    return { events: report.events, skippedMutations: report.skipped, failedMutations: report.failed };
  });
  if (serviceLatency.p50 === undefined) throw new Error('no delivery of the latency window reached the receiver');
  figures.value('delivery.latency.p50', serviceLatency.p50, serviceLatency.notes);
  figures.value('delivery.latency.p99', serviceLatency.p99, serviceLatency.notes);
  log(
    `service at ${deliveriesPerSecond.toFixed(0)}/s: p50 ${formatValue(serviceLatency.p50, 'ms')}, p99 ${formatValue(serviceLatency.p99, 'ms')}`,
  );
}

export const deliveryScenario: Scenario = {
  id: 'delivery',
  description: 'delivery throughput and latency against the bare sender',
  budgetMs: (quick) => (quick ? 90_000 : 180_000),
  figures: () => FIGURES,
  run,
};
