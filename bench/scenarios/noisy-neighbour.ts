import { Worker } from '../lib/children';
import { createBenchAccount, createProject, createWebhooks } from '../lib/service';
import { DeliveryRig, driveBuilds, startDeliveryRig, waitForArrivals, WEBHOOKS } from '../lib/delivery-load';
import { FigureSpec, ratioAtLeast, ratioAtMost } from '../lib/figures';
import { graphqlRequest } from '../lib/graphql-client';
import { seedNeighbourHistory } from '../lib/neighbour-history';
import { delay } from '../lib/pacer';
import { formatValue } from '../lib/report';
import { arrivalsBetween, countedWindowMs, LatencyHistogram, median } from '../lib/stats';
import type { HeavyReport, HeavyRun } from '../processes/heavy-queries';
import type { ProbeReport, ProbeRun, ProbeSeries } from '../processes/neighbour-probe';
import { Scenario, ScenarioContext } from './scenario';

/**
 * One account must not take the service from the others (API.md §3, issue 21): a second account
 * runs the delivery drive of `delivery` (20 webhooks at the receiver, builds as fast as sustained)
 * while one account sends the heaviest requests the limits allow, from as many loops as it likes;
 * its delivery throughput, mutation p99 and `/healthz` p99 against the same drive with the heavy
 * account idle, right before.
 */
const SETTINGS = {
  full: { deliveries: 60_000, warmupMs: 2_000, windowMs: 12_000, leadInMs: 2_000, timings: 3 },
  quick: { deliveries: 20_000, warmupMs: 1_000, windowMs: 4_000, leadInMs: 1_000, timings: 1 },
};
/** The heavy account's loops: twice the operations it may run at once, so it always has a turn waiting. */
const HEAVY_LOOPS = 16;
/** The heavy account's webhooks: 99 of them with their `stats` cost 99 + 99 × 100 = 9,999 of the 10,000 allowed. */
const HEAVY_WEBHOOKS = 99;
/**
 * Padding of each stored event body: 9,900 of them (a page of 100 deliveries of 99 webhooks) stay
 * under the 10 MB result limit as the service estimates it (it counts each resolver's result, so
 * more than twice the JSON: 850 and 400 characters, 9.5 and 5 MB of JSON, were refused).
 */
const PAYLOAD_PADDING = 150;
/**
 * The neighbour's build pipelines: 8, the operations one account runs at once (64, the delivery
 * scenario's, would only wait for turns). The probe is a third account, so its mutations never
 * wait for the neighbour's turns.
 */
const NEIGHBOUR_PIPELINES = 8;
/** The probe's mutations per second, and as many `/healthz`. */
const PROBE_RATE = 20;

/** The heaviest documents the limits let through (cost ≤ 10,000, result ≤ 10 MB); the slowest answered alone is the one sent. */
const HEAVY_QUERIES = {
  stats: `{ webhooks(first: ${HEAVY_WEBHOOKS}) { nodes { stats(since: "2000-01-01T00:00:00Z") { succeeded failed attempts attemptDurationP95Ms } } } }`,
  payloads: `{ webhooks(first: ${HEAVY_WEBHOOKS}) { nodes { deliveries(first: 100) { nodes { id event { payload } } } } } }`,
};

const FIGURES: FigureSpec[] = [
  {
    id: 'neighbour.throughput',
    label: 'delivery throughput, another account heavy',
    unit: 'per-second',
    baseline: 'same drive, the heavy account idle',
    target: ratioAtLeast(0.8),
  },
  {
    id: 'neighbour.mutation.p99',
    label: 'mutation p99, another account heavy',
    unit: 'ms',
    baseline: 'same drive, the heavy account idle',
    target: ratioAtMost(2),
  },
  {
    id: 'neighbour.healthz.p99',
    label: '/healthz p99, another account heavy',
    unit: 'ms',
    baseline: 'same drive, the heavy account idle',
    target: ratioAtMost(2),
  },
];

interface Phase {
  rate: number;
  probe: ProbeReport;
  events: number;
  failedMutations: number;
}

function summary(series: ProbeSeries): Record<string, unknown> {
  const histogram = LatencyHistogram.from(series.latency);
  return { sent: series.sent, p50: histogram.percentile(50), p99: histogram.percentile(99), failures: series.failures };
}

/** The neighbour's drive with its probe beside it: deliveries received per second over the window after the warm-up. */
async function drive(rig: DeliveryRig, probe: Worker, prober: Prober, settings: (typeof SETTINGS)['full']): Promise<Phase> {
  const durationMs = settings.warmupMs + settings.windowMs;
  const base = await rig.receiver.count();
  const startedAt = Date.now();
  const probeRun: ProbeRun = {
    origin: rig.service.origin,
    apiKey: prober.apiKey,
    projectId: prober.projectId,
    ratePerSecond: PROBE_RATE,
    durationMs,
  };
  const [report, probed] = await Promise.all([
    driveBuilds(rig, { durationMs, pipelines: NEIGHBOUR_PIPELINES }),
    probe.request<ProbeReport>('run', probeRun, durationMs + 60_000),
  ]);
  const from = startedAt + settings.warmupMs;
  const to = from + settings.windowMs;
  const rate = (arrivalsBetween([(await rig.receiver.snapshot()).arrivals], from, to) * 1000) / countedWindowMs(from, to);
  // Every event of the drive is delivered before the next phase (the probe's account has no webhooks).
  await waitForArrivals(rig.receiver, base, report.events * WEBHOOKS);
  return { rate, probe: probed, events: report.events, failedMutations: report.failed };
}

/** The third account, whose mutations and `/healthz` calls are timed. */
interface Prober {
  apiKey: string;
  projectId: string;
}

/** Median time of each heavy document alone, on the idle service; the answered ones first, the slowest first. */
async function timeHeavyQueries(
  url: string,
  apiKey: string,
  timings: number,
): Promise<Array<{ name: string; ms: number; bytes: number; answer: string }>> {
  const measured = [];
  for (const [name, query] of Object.entries(HEAVY_QUERIES)) {
    const samples: number[] = [];
    let bytes = 0;
    let answer = 'ok';
    for (let i = 0; i < timings; i++) {
      // Heavy operations run a fifth of the time at most: each waits out the pause the one before left.
      let response: Response;
      let started: number;
      for (;;) {
        started = performance.now();
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ query }),
        });
        if (response.status !== 429) break;
        await response.text();
        await delay(Number(response.headers.get('retry-after') ?? 1) * 1000);
      }
      const text = await response.text();
      samples.push(performance.now() - started);
      bytes = text.length;
      const code = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
      answer = code ?? `HTTP ${response.status}`;
    }
    measured.push({ name, ms: Math.round(median(samples)!), bytes, answer });
  }
  return measured.sort((a, b) => Number(b.answer === 'HTTP 200') - Number(a.answer === 'HTTP 200') || b.ms - a.ms);
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const settings = quick ? SETTINGS.quick : SETTINGS.full;
  const rig = await startDeliveryRig(scope);
  const probe = await scope.worker('neighbour-probe');
  const heavy = await scope.worker('heavy-queries');

  const attacker = await createBenchAccount(rig.service.database);
  const hooks = Array.from({ length: HEAVY_WEBHOOKS }, (_, i) => `http://127.0.0.1:9/heavy/${i}`);
  const attackerService = { ...rig.service, apiKey: attacker.apiKey };
  const webhookIds = await createWebhooks(attackerService, hooks);
  const seeded = await seedNeighbourHistory({
    database: rig.service.database,
    accountId: attacker.accountId,
    webhookIds,
    deliveries: settings.deliveries,
    payloadPadding: PAYLOAD_PADDING,
  });
  log(
    `heavy account: ${HEAVY_WEBHOOKS} webhooks, ${seeded.deliveries.toLocaleString('en-US')} deliveries seeded in ${seeded.seconds.toFixed(1)} s`,
  );
  await graphqlRequest(rig.service.url, attacker.apiKey, '{ viewer { id } }');

  const proberAccount = await createBenchAccount(rig.service.database);
  const prober: Prober = { apiKey: proberAccount.apiKey, projectId: await createProject({ ...rig.service, apiKey: proberAccount.apiKey }) };

  // The quiet drive first: a heavy document refused or stopped may leave work behind it.
  const quiet = await drive(rig, probe, prober, settings);
  log(
    `heavy account idle: ${quiet.rate.toFixed(0)} deliveries/s, mutation p99 ${formatValue(summary(quiet.probe.mutations).p99 as number, 'ms')}, /healthz p99 ${formatValue(summary(quiet.probe.healthz).p99 as number, 'ms')}`,
  );

  const timed = await timeHeavyQueries(rig.service.url, attacker.apiKey, settings.timings);
  const heaviest = timed[0];
  log(
    `heavy documents alone: ${timed.map((t) => `${t.name} ${t.ms} ms, ${(t.bytes / 1e6).toFixed(1)} MB, ${t.answer}`).join('; ')}; sending ${heaviest.name}`,
  );

  const heavyRun: HeavyRun = {
    url: rig.service.url,
    apiKey: attacker.apiKey,
    query: HEAVY_QUERIES[heaviest.name as keyof typeof HEAVY_QUERIES],
    loops: HEAVY_LOOPS,
    durationMs: settings.leadInMs + settings.warmupMs + settings.windowMs + 30_000,
  };
  const attacking = heavy.request<HeavyReport>('run', heavyRun, heavyRun.durationMs + 60_000);
  attacking.catch(() => undefined);
  // The heavy loops reach their bound before the drive starts (pacing, not synchronization).
  await delay(settings.leadInMs);
  let noisy: Phase;
  try {
    noisy = await drive(rig, probe, prober, settings);
  } finally {
    await heavy.request('stop').catch(() => undefined);
  }
  const attackReport = await attacking;
  const attackLatency = LatencyHistogram.from(attackReport.latency);
  const attack = {
    document: heaviest.name,
    alone: timed,
    loops: HEAVY_LOOPS,
    answered: attackReport.ok,
    refused: attackReport.refused,
    socketErrors: attackReport.failed,
    megabytesRead: Math.round(attackReport.bytes / 1e6),
    p50: attackLatency.percentile(50),
  };
  log(
    `heavy account: ${attackReport.ok} answered (p50 ${formatValue(attack.p50, 'ms')}), refused ${JSON.stringify(attackReport.refused)}, ${attackReport.failed} socket errors`,
  );

  const notesOf = (phase: Phase, extra: Record<string, unknown> = {}) => ({
    events: phase.events,
    failedMutations: phase.failedMutations,
    probeMutations: summary(phase.probe.mutations),
    healthz: summary(phase.probe.healthz),
    ...extra,
  });
  const quietNotes = notesOf(quiet);
  const noisyNotes = notesOf(noisy, { heavyAccount: attack });
  figures.baseline('neighbour.throughput', quiet.rate, quietNotes);
  figures.value('neighbour.throughput', noisy.rate, noisyNotes);
  figures.baseline('neighbour.mutation.p99', summary(quiet.probe.mutations).p99 as number | undefined, quietNotes);
  figures.value('neighbour.mutation.p99', summary(noisy.probe.mutations).p99 as number | undefined, noisyNotes);
  figures.baseline('neighbour.healthz.p99', summary(quiet.probe.healthz).p99 as number | undefined, quietNotes);
  figures.value('neighbour.healthz.p99', summary(noisy.probe.healthz).p99 as number | undefined, noisyNotes);
  log(
    `heavy account busy: ${noisy.rate.toFixed(0)} deliveries/s, mutation p99 ${formatValue(summary(noisy.probe.mutations).p99 as number, 'ms')}, /healthz p99 ${formatValue(summary(noisy.probe.healthz).p99 as number, 'ms')}; probe failures ${JSON.stringify(noisy.probe.mutations.failures)} ${JSON.stringify(noisy.probe.healthz.failures)}`,
  );
}

export const noisyNeighbourScenario: Scenario = {
  id: 'noisy-neighbour',
  description: "another account's deliveries, mutations and /healthz while one account sends the heaviest requests allowed",
  budgetMs: (quick) => (quick ? 90_000 : 200_000),
  figures: () => FIGURES,
  run,
};
