import { FigureSpec } from '../lib/figures';
import { graphqlRequest } from '../lib/graphql-client';
import { seedHistory } from '../lib/history-seed';
import { createWebhooks } from '../lib/service';
import { median } from '../lib/stats';
import { Scenario, ScenarioContext } from './scenario';

/**
 * `Webhook.stats` on a webhook with a long history: a million deliveries (30 days of them, about
 * 33,000 a day, 1.25 million attempts) written straight into the service's database, then the
 * stats of the last 24 hours and of all 30 days, each timed over HTTP as a client sees it (median of
 * several requests), against `webhook(id) { id }` on the same service: what any request costs.
 */
const SETTINGS = {
  full: { deliveries: 1_000_000, days: 30, warmups: 3, requests: 15 },
  quick: { deliveries: 100_000, days: 30, warmups: 2, requests: 5 },
};

const STATS_FIELDS = 'since succeeded failed pending successRate attempts attemptDurationP50Ms attemptDurationP95Ms';
const BASELINE = `query ($id: ID!) { webhook(id: $id) { id } }`;
const STATS = `query ($id: ID!, $since: DateTime) { webhook(id: $id) { id stats(since: $since) { ${STATS_FIELDS} } } }`;

interface Stats {
  succeeded: number;
  failed: number;
  pending: number;
  attempts: number;
}

function figuresOf(quick: boolean): FigureSpec[] {
  const { deliveries, days } = quick ? SETTINGS.quick : SETTINGS.full;
  const stored = `${deliveries.toLocaleString('en-US')} deliveries stored`;
  return [
    { id: 'stats.day', label: `Webhook.stats, last 24 hours (${stored})`, unit: 'ms', baseline: 'webhook(id) { id }, same service' },
    { id: 'stats.all', label: `Webhook.stats, all ${days} days (${stored})`, unit: 'ms', baseline: 'webhook(id) { id }, same service' },
  ];
}

/** Median time of `requests` sequential requests, after `warmups` untimed ones; also the last answer. */
async function timed<T>(
  request: () => Promise<T>,
  warmups: number,
  requests: number,
): Promise<{ ms: number; samples: number[]; answer: T }> {
  let answer = await request();
  for (let i = 1; i < warmups; i++) answer = await request();
  const samples: number[] = [];
  for (let i = 0; i < requests; i++) {
    const start = performance.now();
    answer = await request();
    samples.push(performance.now() - start);
  }
  return { ms: median(samples)!, samples: samples.map((ms) => Math.round(ms * 10) / 10), answer };
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const { deliveries, days, warmups, requests } = quick ? SETTINGS.quick : SETTINGS.full;
  const service = await scope.service();
  // Never called: the history is written directly, and the service attempts none of it.
  const [webhookId] = await createWebhooks(service, ['http://127.0.0.1:9/stats']);
  const { viewer } = await graphqlRequest<{ viewer: { id: string } }>(service.url, service.apiKey, '{ viewer { id } }');
  log(`seeding ${deliveries.toLocaleString('en-US')} deliveries over ${days} days`);
  const seeded = await seedHistory({ database: service.database, accountId: viewer.id, webhookId, deliveries, days });
  log(
    `seeded ${seeded.deliveries.toLocaleString('en-US')} deliveries and ${seeded.attempts.toLocaleString('en-US')} attempts in ${seeded.seconds.toFixed(1)} s`,
  );

  const ask =
    <T>(query: string, variables: Record<string, unknown>) =>
    () =>
      graphqlRequest<T>(service.url, service.apiKey, query, variables);
  const statsOf = (since?: string) => ask<{ webhook: { stats: Stats } }>(STATS, { id: webhookId, since });
  const notes = { seededDeliveries: seeded.deliveries, seededAttempts: seeded.attempts, seedSeconds: Math.round(seeded.seconds) };

  const baseline = await timed(ask(BASELINE, { id: webhookId }), warmups, requests);
  figures.baseline('stats.day', baseline.ms, { samples: baseline.samples });
  figures.baseline('stats.all', baseline.ms, { samples: baseline.samples });

  const day = await timed(statsOf(), warmups, requests);
  figures.value('stats.day', day.ms, { ...notes, samples: day.samples, stats: day.answer.webhook.stats });
  log(`last 24 hours: ${day.ms.toFixed(1)} ms (webhook(id) { id }: ${baseline.ms.toFixed(1)} ms)`);

  const all = await timed(statsOf(new Date(Date.now() - (days + 1) * 24 * 60 * 60 * 1000).toISOString()), warmups, requests);
  const counted = all.answer.webhook.stats;
  if (counted.succeeded + counted.failed + counted.pending !== deliveries) {
    throw new Error(`stats over all ${days} days counted ${JSON.stringify(counted)}, not the ${deliveries} deliveries stored`);
  }
  figures.value('stats.all', all.ms, { ...notes, samples: all.samples, stats: counted });
  log(`all ${days} days: ${all.ms.toFixed(1)} ms`);
}

export const statsScenario: Scenario = {
  id: 'stats',
  description: 'Webhook.stats on a webhook with a million stored deliveries',
  inQuickRuns: false,
  budgetMs: (quick) => (quick ? 120_000 : 300_000),
  figures: figuresOf,
  run,
};
