import type { BenchEngine } from './databases';
import { FigureResult, FigureSpec, Unit } from './figures';
import { MIB } from './rss';
import { median } from './stats';

/** A figure's spec on one engine (each engine of a run measures every figure on its own). */
export type EngineFigureSpec = FigureSpec & { engine: BenchEngine };
/** One run's figure, with the engine it was measured on. */
export type EngineFigureResult = FigureResult & { engine: BenchEngine };

/** A figure over all repetitions: medians of value and baseline, median of the per-run ratios. */
export interface FigureSummary {
  id: string;
  /** The database engine the service ran on. */
  engine: BenchEngine;
  label: string;
  unit: Unit;
  baselineIs?: string;
  target?: string;
  value?: number;
  baseline?: number;
  ratio?: number;
  met?: boolean;
  /** Set when no repetition produced a value. */
  error?: string;
  /** Repetitions that failed while others succeeded. */
  failedReps: number;
  perRep: FigureResult[];
}

export function summarize(specs: EngineFigureSpec[], reps: EngineFigureResult[][]): FigureSummary[] {
  return specs.map((spec) => {
    const perRep = reps.map(
      (results) =>
        results.find((r) => r.id === spec.id && r.engine === spec.engine) ?? { id: spec.id, engine: spec.engine, error: 'not run' },
    );
    const value = median(perRep.map((r) => r.value));
    const baseline = median(perRep.map((r) => r.baseline));
    const ratio = median(perRep.map((r) => r.ratio));
    const failed = perRep.filter((r) => r.value === undefined);
    return {
      id: spec.id,
      engine: spec.engine,
      label: spec.label,
      unit: spec.unit,
      baselineIs: spec.baseline,
      target: spec.target?.text,
      value,
      baseline,
      ratio,
      met: spec.target?.met({ value, baseline, ratio }),
      error: value === undefined ? failed[0]?.error : undefined,
      failedReps: value === undefined ? 0 : failed.length,
      perRep,
    };
  });
}

export function formatValue(value: number | undefined, unit: Unit): string {
  if (value === undefined) return '–';
  switch (unit) {
    case 'per-second':
      return `${Math.round(value).toLocaleString('en-US')}/s`;
    case 'ms':
      return `${value.toFixed(1)} ms`;
    case 'bytes':
      return `${(value / MIB).toFixed(1)} MiB`;
    case 'percent':
      return `${value.toFixed(value === 100 ? 0 : 2)}%`;
  }
}

/**
 * The results as a plain-text table, errors and baselines spelled out below it. With more than one
 * engine in the run, an `engine` column follows the figure (each figure's rows side by side);
 * with one, a line above the table names it.
 */
export function renderTable(summaries: FigureSummary[], reps: number): string {
  const engines = [...new Set(summaries.map((s) => s.engine))];
  const byEngine = engines.length > 1;
  const header = [
    'figure',
    ...(byEngine ? ['engine'] : []),
    reps > 1 ? `value (median of ${reps})` : 'value',
    'baseline',
    'ratio',
    'target',
    'met',
  ];
  const engineCell = (s: FigureSummary) => (byEngine ? [s.engine] : []);
  const rows = summaries.map((s) =>
    s.error
      ? [s.label, ...engineCell(s), 'error (below)', formatValue(s.baseline, s.unit), '', s.target ?? '', s.target ? 'no' : '']
      : [
          s.label,
          ...engineCell(s),
          formatValue(s.value, s.unit) + (s.failedReps ? ` (${s.failedReps} failed)` : ''),
          formatValue(s.baseline, s.unit),
          s.ratio === undefined ? '' : s.ratio.toFixed(2),
          s.target ?? '',
          s.met === undefined ? '' : s.met ? 'yes' : 'NO',
        ],
  );
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]))
      .join('  ')
      .trimEnd();
  const out = [
    ...(byEngine ? [] : [`engine: ${engines[0] ?? 'sqlite'}`, '']),
    line(header),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.map(line),
  ];
  const errors = new Map<string, string[]>();
  for (const s of summaries)
    if (s.error) errors.set(s.error, [...(errors.get(s.error) ?? []), byEngine ? `${s.label} (${s.engine})` : s.label]);
  if (errors.size) out.push('', 'errors:', ...[...errors].map(([error, labels]) => `  ${labels.join('; ')}:\n    ${error}`));
  const baselines = [...new Set(summaries.map((s) => s.baselineIs).filter(Boolean))];
  if (baselines.length)
    out.push('', 'baselines (measured in the same run, right before each figure):', ...baselines.map((b) => `  - ${b}`));
  const targeted = summaries.filter((s) => s.target);
  out.push('', `targets met: ${targeted.filter((s) => s.met).length} of ${targeted.length}`);
  return out.join('\n');
}
