/** One measured figure, its in-run baseline and what it is held to. */
export interface FigureSpec {
  id: string;
  label: string;
  unit: Unit;
  /** What the baseline is, in a few words (the table's legend). */
  baseline?: string;
  target?: Target;
}

export type Unit = 'per-second' | 'ms' | 'bytes' | 'percent';

export interface Target {
  /** As printed, e.g. `≥ 0.5 × baseline`. */
  text: string;
  met(figure: { value?: number; baseline?: number; ratio?: number }): boolean | undefined;
}

/** The figure's ratio (value / baseline) must be at least `min`. */
export function ratioAtLeast(min: number): Target {
  return { text: `≥ ${min} × baseline`, met: ({ ratio }) => (ratio === undefined ? undefined : ratio >= min) };
}

/** The figure's ratio (value / baseline) must be at most `max`. */
export function ratioAtMost(max: number): Target {
  return { text: `≤ ${max} × baseline`, met: ({ ratio }) => (ratio === undefined ? undefined : ratio <= max) };
}

/** The value itself must be at most `max` (in the figure's unit; `text` says it for people). */
export function valueAtMost(max: number, text: string): Target {
  return { text, met: ({ value }) => (value === undefined ? undefined : value <= max) };
}

/** The value itself must be at least `min`. */
export function valueAtLeast(min: number, text: string): Target {
  return { text, met: ({ value }) => (value === undefined ? undefined : value >= min) };
}

export interface FigureResult {
  id: string;
  value?: number;
  baseline?: number;
  /** value / baseline, when both exist. */
  ratio?: number;
  error?: string;
  /** Context worth keeping in the JSON (sample counts, peaks, errors seen). */
  notes?: Record<string, unknown>;
}

/** Collects one scenario run's figures as they are measured; a failure marks the ones still missing. */
export class FigureRecorder {
  private readonly results = new Map<string, FigureResult>();

  constructor(readonly specs: FigureSpec[]) {
    for (const spec of specs) this.results.set(spec.id, { id: spec.id });
  }

  private get(id: string): FigureResult {
    const result = this.results.get(id);
    if (!result) throw new Error(`figure ${id} is not declared by its scenario`);
    return result;
  }

  baseline(id: string, baseline: number | undefined, notes?: Record<string, unknown>): void {
    const result = this.get(id);
    result.baseline = baseline;
    if (notes) result.notes = { ...result.notes, baseline: notes };
  }

  value(id: string, value: number | undefined, notes?: Record<string, unknown>): void {
    const result = this.get(id);
    result.value = value;
    if (notes) result.notes = { ...result.notes, value: notes };
  }

  /** Marks one figure as failed (its baseline, if measured, is kept). */
  fail(id: string, message: string): void {
    const result = this.get(id);
    if (result.value === undefined) result.error ??= message;
  }

  /** Marks every figure without a value as failed with `message`. */
  failRemaining(message: string): void {
    for (const id of this.results.keys()) this.fail(id, message);
  }

  finish(): FigureResult[] {
    return [...this.results.values()].map((result) => {
      const ratio = result.value !== undefined && result.baseline ? result.value / result.baseline : undefined;
      if (result.value === undefined && !result.error) result.error = 'not measured';
      return { ...result, ratio };
    });
  }
}
