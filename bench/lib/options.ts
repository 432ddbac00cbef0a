import { parseArgs } from 'node:util';
import { BenchEngine } from './databases';

export type EngineChoice = BenchEngine | 'both';

export interface BenchOptions {
  reps: number;
  /** Scenario ids to run; all when empty. */
  only: string[];
  quick: boolean;
  /** As given (`--engine`). */
  engine: EngineChoice;
  /** The engines each scenario runs on, in order: `both` is SQLite, then PostgreSQL. */
  engines: BenchEngine[];
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--reps N] [--only SCENARIO[,SCENARIO…]] [--quick] [--engine sqlite|postgres|both]
  --reps N        repeat the whole suite N times and report medians (default 1)
  --only LIST     run only these scenarios: delivery, fanout, query, memory, backlog, workers, stats,
                  scaling
  --quick         short smoke run with smaller numbers (not for comparing results); leaves out
                  stats (a million rows to write) unless it is named with --only
  --engine E      the services' database: sqlite (default, a file per service), postgres (a database
                  per service on the server of DESKFORGE_BENCH_DATABASE_URL, an admin URL such as
                  postgres://postgres@127.0.0.1:5432/postgres, or else on a throwaway server the
                  bench starts), or both (each scenario on sqlite, then on postgres; figures labelled
                  by engine). scaling (1, 2, 3 processes) runs on postgres only unless named with --only
Without "--", npm keeps the flags for itself: --reps N, --quick and --engine E still work (npm passes
them on as npm_config_reps, npm_config_quick and npm_config_engine_strict with the value bare),
--only does not (it is one of npm's own options).`;

const ENGINE_CHOICES: readonly EngineChoice[] = ['sqlite', 'postgres', 'both'];

function enginesOf(choice: EngineChoice): BenchEngine[] {
  return choice === 'both' ? ['sqlite', 'postgres'] : [choice];
}

/**
 * Options from the command line, or from what npm makes of them when they are given to `npm run`
 * without `--`: `--quick` becomes `npm_config_quick=true`, `--reps=3` becomes `npm_config_reps=3`,
 * and `--reps 3` becomes `npm_config_reps=true` with `3` passed on as a bare argument; `--engine
 * postgres` and `--engine=postgres` both become `npm_config_engine_strict=true` (npm expands the
 * abbreviation) with `postgres` passed on bare. A bare engine name goes to the engine, a bare
 * number to the reps.
 */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      engine: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  /** The bare argument npm passed on for a flag it made `true`, found by its shape; else the variable as is. */
  const npmValue = (variable: string | undefined, matches: (value: string) => boolean): string | undefined => {
    if (variable !== 'true') return variable;
    const index = positionals.findIndex(matches);
    return index < 0 ? variable : positionals.splice(index, 1)[0];
  };
  // npm reads `--engine` as its own `--engine-strict` (an abbreviation) and passes the value on bare.
  const npmEngineFlag = env.npm_config_engine ?? (env.npm_config_engine_strict !== undefined ? 'true' : undefined);
  const npmEngine = npmValue(npmEngineFlag, (value) => (ENGINE_CHOICES as readonly string[]).includes(value.toLowerCase()));
  const npmReps = npmValue(env.npm_config_reps, (value) => /^\d+$/.test(value));
  if (positionals.length > 0) throw new Error(`unexpected argument ${positionals.join(' ')}`);
  const repsText = values.reps ?? npmReps ?? '1';
  const reps = Number(repsText);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number ≥ 1, got "${repsText}"`);
  const only = (values.only ?? [])
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter(Boolean);
  const quick = values.quick ?? env.npm_config_quick === 'true';
  const engineText = (values.engine ?? npmEngine ?? 'sqlite').trim().toLowerCase();
  if (!(ENGINE_CHOICES as readonly string[]).includes(engineText))
    throw new Error(`--engine must be sqlite, postgres or both, got "${engineText}"`);
  const engine = engineText as EngineChoice;
  return { reps, only, quick, engine, engines: enginesOf(engine), help: values.help ?? false };
}
