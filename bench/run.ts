import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { runExitHooks } from './lib/at-exit';
import { killAllChildren } from './lib/children';
import { BenchEngine, DatabaseHost, postgresHost, sqliteHost } from './lib/databases';
import { errorMessage } from './lib/error-message';
import { FigureRecorder, FigureResult } from './lib/figures';
import { openFilesLimit } from './lib/open-files';
import { BenchOptions, parseOptions, USAGE } from './lib/options';
import { RESULTS_DIR } from './lib/paths';
import { EngineFigureResult, EngineFigureSpec, renderTable, summarize } from './lib/report';
import { Scope } from './lib/scope';
import { backlogScenario } from './scenarios/backlog';
import { deliveryScenario } from './scenarios/delivery';
import { fanoutScenario } from './scenarios/fanout';
import { memoryScenario } from './scenarios/memory';
import { noisyNeighbourScenario } from './scenarios/noisy-neighbour';
import { queryScenario } from './scenarios/query';
import { Scenario } from './scenarios/scenario';
import { scalingScenario } from './scenarios/scaling';
import { workersScenario } from './scenarios/workers';
import { statsScenario } from './scenarios/stats';

/**
 * `npm run bench`: runs each scenario against the real service, each figure right after its own
 * baseline, on each engine of `--engine` (SQLite, PostgreSQL, or both: a scenario on SQLite, then
 * on PostgreSQL), prints the table and writes bench/results/latest.json. Only in-run ratios are
 * comparable: the machine's speed drifts between runs.
 */
const SCENARIOS: Scenario[] = [
  deliveryScenario,
  fanoutScenario,
  queryScenario,
  memoryScenario,
  backlogScenario,
  workersScenario,
  scalingScenario,
  statsScenario,
  noisyNeighbourScenario,
];

/** One scenario on one engine. */
interface Run {
  scenario: Scenario;
  engine: BenchEngine;
}

function log(message: string): void {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${message}\n`);
}

/** Runs one scenario on one engine within its time budget; whatever fails, its processes are stopped and its databases dropped. */
async function runScenario(
  { scenario, engine }: Run,
  host: DatabaseHost,
  options: BenchOptions,
  rep: number,
): Promise<EngineFigureResult[]> {
  const budgetMs = scenario.budgetMs(options.quick);
  const scope = new Scope(budgetMs + 30_000, host);
  const figures = new FigureRecorder(scenario.figures(options.quick));
  const name = options.engines.length > 1 || engine !== 'sqlite' ? `${scenario.id} on ${engine}` : scenario.id;
  const prefix = options.reps > 1 ? `[${rep}/${options.reps}] ${name}` : name;
  log(`${prefix}: ${scenario.description}`);
  let timer: NodeJS.Timeout | undefined;
  try {
    const run = scenario.run({ quick: options.quick, engine, scope, figures, log: (message) => log(`${prefix}: ${message}`) });
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
  return figures.finish().map((result: FigureResult) => ({ ...result, engine }));
}

/**
 * Where each engine's services keep their data, made on first use: SQLite files, or the PostgreSQL
 * server (DESKFORGE_BENCH_DATABASE_URL's, or a throwaway one, started once for the whole bench).
 */
class Hosts {
  private readonly hosts = new Map<BenchEngine, Promise<DatabaseHost>>();

  get(engine: BenchEngine): Promise<DatabaseHost> {
    let host = this.hosts.get(engine);
    if (!host) {
      host = engine === 'postgres' ? postgresHost(log) : Promise.resolve(sqliteHost());
      this.hosts.set(engine, host);
    }
    return host;
  }

  async describe(): Promise<Record<string, unknown>> {
    const postgres = this.hosts.has('postgres') ? (await this.get('postgres')).postgres : undefined;
    return postgres
      ? {
          postgres: {
            version: postgres.version,
            throwaway: postgres.throwaway,
            settings: postgres.throwaway ? 'defaults (fsync on), max_connections=200' : 'the server of DESKFORGE_BENCH_DATABASE_URL',
          },
        }
      : {};
  }

  async close(): Promise<void> {
    for (const host of this.hosts.values()) await (await host.catch(() => undefined))?.close();
  }
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
  const named = options.only.length > 0;
  const scenarios = named
    ? SCENARIOS.filter((s) => options.only.includes(s.id))
    : SCENARIOS.filter((s) => !options.quick || s.inQuickRuns !== false);
  // A scenario meant for some engines only runs on the others when it is named.
  const runs: Run[] = scenarios.flatMap((scenario) =>
    options.engines
      .filter((engine) => named || !scenario.engines || scenario.engines.includes(engine))
      .map((engine) => ({ scenario, engine })),
  );
  if (runs.length === 0) throw new Error(`nothing to run on ${options.engines.join(' and ')}\n${USAGE}`);
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
  const runNames = runs.map(({ scenario, engine }) =>
    options.engines.length > 1 || engine !== 'sqlite' ? `${scenario.id} (${engine})` : scenario.id,
  );
  log(`bench: ${runNames.join(', ')}; ${options.reps} rep(s)${options.quick ? ', quick' : ''}; ${machine.cpus} cpus, node ${machine.node}`);

  const hosts = new Hosts();
  const reps: EngineFigureResult[][] = [];
  let databases: Record<string, unknown>;
  try {
    for (let rep = 1; rep <= options.reps; rep++) {
      const results: EngineFigureResult[] = [];
      for (const run of runs) results.push(...(await runScenario(run, await hosts.get(run.engine), options, rep)));
      reps.push(results);
    }
  } finally {
    databases = await hosts.describe().catch(() => ({}));
    await hosts.close();
  }

  // Each scenario's figures in order, each figure's engines side by side.
  const specs: EngineFigureSpec[] = scenarios.flatMap((scenario) => {
    const engines = runs.filter((run) => run.scenario === scenario).map((run) => run.engine);
    return scenario.figures(options.quick).flatMap((spec) => engines.map((engine) => ({ ...spec, engine })));
  });
  const summaries = summarize(specs, reps);
  process.stdout.write(`\n${renderTable(summaries, options.reps)}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, 'latest.json');
  const report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    options,
    machine,
    databases,
    figures: summaries,
  };
  writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\nJSON: ${path}\n`);
}

// The services first (they hold connections), then the exit hooks: databases left, the throwaway server.
process.on('exit', () => {
  killAllChildren();
  runExitHooks();
});
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
