import { BenchEngine } from '../lib/databases';
import { FigureRecorder, FigureSpec } from '../lib/figures';
import { Scope } from '../lib/scope';

export interface ScenarioContext {
  /** Short smoke run: smaller numbers, shorter windows. */
  quick: boolean;
  /** The database engine of this run (`--engine`): the scope's services and databases are on it. */
  engine: BenchEngine;
  /** Starts processes, services and databases that are stopped (dropped) when the run ends, however it ends. */
  scope: Scope;
  figures: FigureRecorder;
  /** A progress line on stderr. */
  log(message: string): void;
}

/** A group of figures measured together, each right after its own baseline, on a fresh service. */
export interface Scenario {
  id: string;
  description: string;
  /**
   * False: left out of `--quick` runs unless named with `--only` (it takes long to set up). Then
   * it runs with its quick settings.
   */
  inQuickRuns?: boolean;
  /**
   * The engines it runs on when not named (all when omitted): with `--engine both` it is left out of
   * the others' runs, and out of runs on an engine not listed, unless named with `--only`.
   */
  engines?: BenchEngine[];
  /** Time budget of one run: past it the run is stopped and its missing figures fail. */
  budgetMs(quick: boolean): number;
  figures(quick: boolean): FigureSpec[];
  run(context: ScenarioContext): Promise<void>;
}

/** What a load process reports: events made, and for mutations those not made at the set rate. */
export interface LoadReport {
  events: number;
  skippedMutations?: number;
  failedMutations?: number;
}
