import { BoundsReport, boundsVerdict, describeBounds, probed, startBoundsProbe } from './bounds';
import { driveBuilds, startDeliveryRig, stopDeliveryRig } from './delivery-load';
import type { MutationReport } from '../processes/mutation-client';
import type { ScenarioContext } from '../scenarios/scenario';
import { ServiceOptions } from './service';

/** Service processes on one database, and where the mutations go. */
export interface ProcessLayout {
  /** For the log, e.g. `1 api + 2 workers`. */
  name: string;
  /** One per process, in start order (the first makes the database): its label in the bounds report and its options. */
  processes: Array<{ label: string; options?: ServiceOptions }>;
  /** The mutation client spreads its builds over every process (else all go to the first). */
  mutationsToAll?: boolean;
}

export interface LayoutRun {
  /** Deliveries received per second over the drive. */
  rate: number;
  report: MutationReport;
  /** Where the CPU went and what the server's connections did during the drive (`bounds.ts`). */
  bounds: BoundsReport;
}

/**
 * Starts `layout` on a fresh database of the run's engine with the delivery rig, drives it as fast
 * as it sustains for `durationMs` with the bounds probe watching every process (services, receiver,
 * mutation client) and the PostgreSQL server, then stops it all, so the next layout runs alone.
 */
export async function layoutThroughput(context: ScenarioContext, layout: ProcessLayout, durationMs: number): Promise<LayoutRun> {
  const [first, ...others] = layout.processes;
  const rig = await startDeliveryRig(
    context.scope,
    first.options,
    others.map((other) => other.options ?? {}),
    { mutationsToAll: layout.mutationsToAll },
  );
  try {
    const postgres = context.scope.host.postgres;
    const probe = await startBoundsProbe(
      [
        ...rig.processes.map((service, index) => ({ label: layout.processes[index].label, pid: service.pid, mainThread: true })),
        { label: 'receiver', pid: rig.receiver.worker.pid },
        { label: 'mutation client', pid: rig.mutations.pid },
      ],
      postgres ? { server: postgres, databaseUrl: rig.service.database.location } : undefined,
    );
    const before = await rig.receiver.count();
    const startedAt = Date.now();
    const [report, bounds] = await probed(probe, driveBuilds(rig, { durationMs }));
    const rate = (((await rig.receiver.count()) - before) * 1000) / (Date.now() - startedAt);
    context.log(`${layout.name}: ${Math.round(rate)}/s; ${describeBounds(bounds)}`);
    return { rate, report, bounds };
  } finally {
    await stopDeliveryRig(rig).catch(() => undefined);
  }
}

/** The notes a layout's run leaves in the JSON. */
export function layoutNotes(run: LayoutRun): Record<string, unknown> {
  return {
    events: run.report.events,
    failedMutations: run.report.failed,
    throttled: Number(run.report.throttled.toFixed(2)),
    mutationErrors: run.report.errors,
    bounds: { ...run.bounds, verdict: boundsVerdict(run.bounds) },
  };
}
