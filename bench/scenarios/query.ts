import { Worker } from '../lib/children';
import { WEBHOOKS_PAGE } from '../lib/documents';
import { FigureSpec, ratioAtLeast } from '../lib/figures';
import { graphqlRequest } from '../lib/graphql-client';
import { createWebhooks } from '../lib/service';
import type { QueryLoad, QueryLoadReport } from '../processes/query-load';
import { Scenario, ScenarioContext } from './scenario';

/**
 * Figure 4: `webhooks(first: 20)` with 20 webhooks stored, 50 connections, against a bare Apollo
 * Server answering a one-field query in its own process, loaded the same way.
 */
const CONNECTIONS = 50;
const WEBHOOKS = 20;
const SETTINGS = {
  full: { warmupSeconds: 2, durationSeconds: 10 },
  quick: { warmupSeconds: 1, durationSeconds: 3 },
};

const FIGURES: FigureSpec[] = [
  {
    id: 'query.throughput',
    label: 'query throughput, webhooks(first: 20)',
    unit: 'per-second',
    baseline: 'bare Apollo Server, one-field query',
    target: ratioAtLeast(0.5),
  },
];

/** A warm-up run, then the measured one; fails on any non-2xx answer or socket error. */
async function load(
  worker: Worker,
  request: Omit<QueryLoad, 'connections' | 'durationSeconds'>,
  settings: (typeof SETTINGS)['full'],
): Promise<QueryLoadReport> {
  const run = (durationSeconds: number) =>
    worker.request<QueryLoadReport>('run', { ...request, connections: CONNECTIONS, durationSeconds }, (durationSeconds + 30) * 1000);
  await run(settings.warmupSeconds);
  const report = await run(settings.durationSeconds);
  if (report.non2xx > 0 || report.errors > 0) {
    throw new Error(`${report.non2xx} non-2xx answers and ${report.errors} errors out of ${report.requests} requests`);
  }
  return report;
}

function notesOf(report: QueryLoadReport): Record<string, unknown> {
  return { requests: report.requests, latencyP50Ms: report.latencyP50Ms, latencyP99Ms: report.latencyP99Ms };
}

async function run({ quick, scope, figures, log }: ScenarioContext): Promise<void> {
  const settings = quick ? SETTINGS.quick : SETTINGS.full;
  const loader = await scope.worker('query-load');

  const apollo = await scope.worker('bare-apollo');
  const { port } = await apollo.request<{ port: number }>('listen');
  const bareUrl = `http://127.0.0.1:${port}/graphql`;
  const bareQuery = '{ hello }';
  const answer = await graphqlRequest<{ hello: string }>(bareUrl, 'unused', bareQuery);
  if (answer.hello !== 'world') throw new Error('the bare Apollo Server answered wrongly');
  const bare = await load(loader, { url: bareUrl, body: JSON.stringify({ query: bareQuery }), headers: {} }, settings);
  await apollo.stop();
  figures.baseline('query.throughput', bare.requestsPerSecond, notesOf(bare));
  log(`bare Apollo: ${bare.requestsPerSecond.toFixed(0)} requests/s`);

  const service = await scope.service();
  // Never called: creating webhooks makes no event, so nothing is sent to these URLs.
  await createWebhooks(
    service,
    Array.from({ length: WEBHOOKS }, (_, i) => `http://127.0.0.1:9/hooks/${i}`),
  );
  const page = await graphqlRequest<{ webhooks: { nodes: unknown[] } }>(service.url, service.apiKey, WEBHOOKS_PAGE);
  if (page.webhooks.nodes.length !== WEBHOOKS) throw new Error(`webhooks(first: 20) returned ${page.webhooks.nodes.length} webhooks`);
  const measured = await load(
    loader,
    { url: service.url, body: JSON.stringify({ query: WEBHOOKS_PAGE }), headers: { authorization: `Bearer ${service.apiKey}` } },
    settings,
  );
  figures.value('query.throughput', measured.requestsPerSecond, notesOf(measured));
  log(`service: ${measured.requestsPerSecond.toFixed(0)} requests/s`);
}

export const queryScenario: Scenario = {
  id: 'query',
  description: 'webhooks(first: 20) throughput against a bare Apollo Server',
  budgetMs: (quick) => (quick ? 60_000 : 90_000),
  figures: () => FIGURES,
  run,
};
