import { parseArgs } from 'node:util';

export interface BenchOptions {
  reps: number;
  /** Scenario ids to run; all when empty. */
  only: string[];
  quick: boolean;
  help: boolean;
}

export const USAGE = `usage: npm run bench -- [--reps N] [--only SCENARIO[,SCENARIO…]] [--quick]
  --reps N      repeat the whole suite N times and report medians (default 1)
  --only LIST   run only these scenarios: delivery, fanout, query, memory, stats
  --quick       short smoke run with smaller numbers (not for comparing results); leaves out
                stats (a million rows to write) unless it is named with --only
Without "--", npm keeps the flags for itself: --reps N and --quick still work (npm passes them on
as npm_config_reps and npm_config_quick), --only does not (it is one of npm's own options).`;

/**
 * Options from the command line, or from what npm makes of them when they are given to `npm run`
 * without `--`: `--quick` becomes `npm_config_quick=true`, `--reps=3` becomes `npm_config_reps=3`,
 * and `--reps 3` becomes `npm_config_reps=true` with `3` passed on as a bare argument.
 */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: true,
  });
  const npmReps = env.npm_config_reps === 'true' && positionals.length === 1 ? positionals.pop() : env.npm_config_reps;
  if (positionals.length > 0) throw new Error(`unexpected argument ${positionals.join(' ')}`);
  const repsText = values.reps ?? npmReps ?? '1';
  const reps = Number(repsText);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number ≥ 1, got "${repsText}"`);
  const only = (values.only ?? []).flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean);
  const quick = values.quick ?? env.npm_config_quick === 'true';
  return { reps, only, quick, help: values.help ?? false };
}
