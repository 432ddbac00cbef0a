import { driveBuilds, startDeliveryRig } from '../lib/delivery-load';
import { FigureSpec } from '../lib/figures';
import { Scenario, ScenarioContext } from './scenario';

/**
 * Delivery throughput with the roles split over processes on one SQLite file: one `api` process
 * takes the mutations, one or two `worker` processes deliver. Baseline: one process with both roles,
 * the default. Each is driven as fast as it sustains for the same window.
 */
const SETTINGS = { full: { durationMs: 15_000 }, quick: { durationMs: 4_000 } };
const LAYOUTS = [
  { id: 'workers.one', label: 'delivery throughput, 1 api + 1 worker process', workers: 1 },
  { id: 'workers.two', label: 'delivery throughput, 1 api + 2 worker processes', workers: 2 },
];

function figuresOf(): FigureSpec[] {
  return LAYOUTS.map(({ id, label }) => ({ id, label, unit: 'per-second' as const, baseline: 'one process with both roles' }));
}

async function throughput(context: ScenarioContext, workers: number, durationMs: number): Promise<number> {
  const api = workers > 0 ? { env: { DESKFORGE_ROLES: 'api' } } : {};
  const rig = await startDeliveryRig(context.scope, api, Array.from({ length: workers }, () => ({ env: { DESKFORGE_ROLES: 'worker' } })));
  const before = await rig.receiver.count();
  const startedAt = Date.now();
  await driveBuilds(rig, { durationMs });
  const rate = (((await rig.receiver.count()) - before) * 1000) / (Date.now() - startedAt);
  context.log(`${workers || 'no separate'} worker(s): ${Math.round(rate)}/s`);
  return rate;
}

async function run(context: ScenarioContext): Promise<void> {
  const { durationMs } = context.quick ? SETTINGS.quick : SETTINGS.full;
  for (const layout of LAYOUTS) {
    const baseline = await throughput(context, 0, durationMs);
    context.figures.baseline(layout.id, baseline);
    context.figures.value(layout.id, await throughput(context, layout.workers, durationMs));
  }
}

export const workersScenario: Scenario = {
  id: 'workers',
  description: 'delivery throughput with api and worker processes on one database',
  budgetMs: (quick) => (quick ? 120_000 : 240_000),
  figures: figuresOf,
  run,
};
