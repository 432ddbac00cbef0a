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
  --only LIST   run only these scenarios: delivery, fanout, query, memory
  --quick       short smoke run with smaller numbers (not for comparing results)
(npm run bench --reps 3, without "--", works too: npm passes it as npm_config_reps.)`;

/**
 * Options from the command line, or from the `npm_config_*` variables npm sets when the flags
 * are given to `npm run` without `--`.
 */
export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string' },
      only: { type: 'string', multiple: true },
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  const repsText = values.reps ?? env.npm_config_reps ?? '1';
  const reps = Number(repsText);
  if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number ≥ 1, got "${repsText}"`);
  const onlyText = values.only ?? (env.npm_config_only ? [env.npm_config_only] : []);
  const only = onlyText.flatMap((item) => item.split(',')).map((item) => item.trim()).filter(Boolean);
  const quick = values.quick ?? ['true', '1', ''].includes(env.npm_config_quick ?? 'false');
  return { reps, only, quick, help: values.help ?? false };
}
