import { FigureSpec } from '../lib/figures';
import { layoutNotes, layoutThroughput, ProcessLayout } from '../lib/process-layouts';
import { Scenario, ScenarioContext } from './scenario';

/**
 * Delivery throughput with 1, 2 and 3 service processes on one PostgreSQL database, each with both
 * roles (the default, what several machines behind a load balancer would run), the mutation
 * client's 64 build pipelines spread over them (pipeline i → process i mod N, sticky). Every
 * process takes mutations and delivers: the deliveries of its own commits are handed to its own
 * worker at commit, due ones left by others are claimed (`FOR UPDATE SKIP LOCKED`), the feed's
 * append lock orders every commit that makes events across processes.
 *
 * Figures: 1 process; then 2 and 3 processes, each against 1 process driven the same way right
 * before (the ratio is the speed-up). Each layout runs on a fresh database, alone, with the bounds
 * probe watching (machine, processes, server CPU, the connections' wait events: `bounds` in the
 * JSON notes, one line per run in the log). On a 2-core machine the processes, the server, the
 * receiver and the load generator share the same two cores: see bench/README.md.
 */
const SETTINGS = { full: { durationMs: 15_000 }, quick: { durationMs: 4_000 } };
const COUNTS = [2, 3];

function layout(processes: number): ProcessLayout {
  return {
    name: `${processes} process${processes > 1 ? 'es' : ''} with both roles`,
    processes: Array.from({ length: processes }, (_, i) => ({ label: `process ${i + 1}` })),
    mutationsToAll: true,
  };
}

function figuresOf(): FigureSpec[] {
  return [
    { id: 'scaling.1', label: 'delivery throughput, 1 process (both roles)', unit: 'per-second' },
    ...COUNTS.map((count) => ({
      id: `scaling.${count}`,
      label: `delivery throughput, ${count} processes (both roles, mutations spread)`,
      unit: 'per-second' as const,
      baseline: '1 process, same drive, right before',
    })),
  ];
}

async function run(context: ScenarioContext): Promise<void> {
  const { durationMs } = context.quick ? SETTINGS.quick : SETTINGS.full;
  for (const [index, count] of COUNTS.entries()) {
    const one = await layoutThroughput(context, layout(1), durationMs);
    if (index === 0) context.figures.value('scaling.1', one.rate, layoutNotes(one));
    context.figures.baseline(`scaling.${count}`, one.rate, layoutNotes(one));
    const many = await layoutThroughput(context, layout(count), durationMs);
    context.figures.value(`scaling.${count}`, many.rate, layoutNotes(many));
  }
}

export const scalingScenario: Scenario = {
  id: 'scaling',
  description: 'delivery throughput with 1, 2 and 3 processes with both roles on one database',
  engines: ['postgres'],
  budgetMs: (quick) => (quick ? 120_000 : 240_000),
  figures: figuresOf,
  run,
};
