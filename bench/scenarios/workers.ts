import { FigureSpec } from '../lib/figures';
import { layoutNotes, layoutThroughput, ProcessLayout } from '../lib/process-layouts';
import { Scenario, ScenarioContext } from './scenario';

/**
 * Delivery throughput with the roles split over processes on one database (one SQLite file, or one
 * PostgreSQL database): one `api` process takes the mutations, one or two `worker` processes
 * deliver. Baseline: one process with both roles, the default, right before. Each is driven as fast
 * as it sustains for the same window, on a fresh database, alone (the previous layout's processes
 * are stopped first), with the bounds probe watching (`bounds` in the JSON notes).
 */
const SETTINGS = { full: { durationMs: 15_000 }, quick: { durationMs: 4_000 } };
const LAYOUTS = [
  { id: 'workers.one', label: 'delivery throughput, 1 api + 1 worker process', workers: 1 },
  { id: 'workers.two', label: 'delivery throughput, 1 api + 2 worker processes', workers: 2 },
];

function figuresOf(): FigureSpec[] {
  return LAYOUTS.map(({ id, label }) => ({ id, label, unit: 'per-second' as const, baseline: 'one process with both roles' }));
}

const ONE_PROCESS: ProcessLayout = { name: 'one process with both roles', processes: [{ label: 'api+worker' }] };

function split(workers: number): ProcessLayout {
  return {
    name: `1 api + ${workers} worker${workers > 1 ? 's' : ''}`,
    processes: [
      { label: 'api', options: { env: { DESKFORGE_ROLES: 'api' } } },
      ...Array.from({ length: workers }, (_, i) => ({ label: `worker ${i + 1}`, options: { env: { DESKFORGE_ROLES: 'worker' } } })),
    ],
  };
}

async function run(context: ScenarioContext): Promise<void> {
  const { durationMs } = context.quick ? SETTINGS.quick : SETTINGS.full;
  for (const layout of LAYOUTS) {
    const baseline = await layoutThroughput(context, ONE_PROCESS, durationMs);
    context.figures.baseline(layout.id, baseline.rate, layoutNotes(baseline));
    const measured = await layoutThroughput(context, split(layout.workers), durationMs);
    context.figures.value(layout.id, measured.rate, layoutNotes(measured));
  }
}

export const workersScenario: Scenario = {
  id: 'workers',
  description: 'delivery throughput with api and worker processes on one database',
  budgetMs: (quick) => (quick ? 120_000 : 240_000),
  figures: figuresOf,
  run,
};
