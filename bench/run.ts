import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { killAllChildren } from './lib/children';
import { errorMessage } from './lib/error-message';
import { FigureRecorder, FigureResult } from './lib/figures';
import { openFilesLimit } from './lib/open-files';
import { BenchOptions, parseOptions, USAGE } from './lib/options';
import { RESULTS_DIR } from './lib/paths';
import { renderTable, summarize } from './lib/report';
import { Scope } from './lib/scope';
import { backlogScenario } from './scenarios/backlog';
import { deliveryScenario } from './scenarios/delivery';
import { fanoutScenario } from './scenarios/fanout';
import { memoryScenario } from './scenarios/memory';
import { queryScenario } from './scenarios/query';
import { Scenario } from './scenarios/scenario';
import { workersScenario } from './scenarios/workers';
import { statsScenario } from './scenarios/stats';

/**
 * `npm run bench`: runs each scenario against the real service, each figure right after its own
 * baseline, prints the table and writes bench/results/latest.json. Only in-run ratios are
 * comparable: the machine's speed drifts between runs.
 */
const SCENARIOS: Scenario[] = [deliveryScenario, fanoutScenario, queryScenario, memoryScenario, backlogScenario, workersScenario, statsScenario];

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** Runs one scenario within its time budget; whatever fails, its processes are stopped. */
async function runScenario(scenario: Scenario, options: BenchOptions, rep: number): Promise<FigureResult[]> {
  const budgetMs = scenario.budgetMs(options.quick);
  const scope = new Scope(budgetMs + 30_000);
  const figures = new FigureRecorder(scenario.figures(options.quick));
  const prefix = options.reps > 1 ? `[${rep}/${options.reps}] ${scenario.id}` : scenario.id;
  log(`${prefix}: ${scenario.description}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = scenario.run({ quick: options.quick, scope, figures, log: (message) => log(`${prefix}: ${message}`) });
    run.catch(() => undefined);
    await Promise.race([
      run,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`stopped after its ${budgetMs / 1000} s budget`)), budgetMs);
      }),
    ]);
  } catch (error) {
    figures.failRemaining(errorMessage(error));
    log(`${prefix}: ${errorMessage(error)}`);
  } finally {
    clearTimeout(timer);
    await scope.close();
  }
  return figures.finish();
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n${USAGE}\n`);
    process.exit(2);
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const unknown = options.only.filter((id) => !SCENARIOS.some((s) => s.id === id));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`);
  const scenarios = options.only.length
    ? SCENARIOS.filter((s) => options.only.includes(s.id))
    : SCENARIOS.filter((s) => !options.quick || s.inQuickRuns !== false);
  const startedAt = new Date();
  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryMiB: Math.round(totalmem() / 1024 / 1024),
    loadAverage: loadavg(),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    openFiles: openFilesLimit(),
  };
  log(`bench: ${scenarios.map((s) => s.id).join(', ')}; ${options.reps} rep(s)${options.quick ? ', quick' : ''}; ${machine.cpus} cpus, node ${machine.node}`);

  const reps: FigureResult[][] = [];
  for (let rep = 1; rep <= options.reps; rep++) {
    const results: FigureResult[] = [];
    for (const scenario of scenarios) results.push(...(await runScenario(scenario, options, rep)));
    reps.push(results);
  }

  const summaries = summarize(
    scenarios.flatMap((s) => s.figures(options.quick)),
    reps,
  );
  process.stdout.write(`\n${renderTable(summaries, options.reps)}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'latest.json');
  const report = { startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(), options, machine, figures: summaries };
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${path}\n`);
}

process.on('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${errorMessage(error)}\n`);
  killAllChildren();
  process.exit(1);
});
