import { Worker } from './children';
import { delay, pollUntil } from './pacer';
import type { MutationReport } from '../processes/mutation-client';
import type { ReceiverSnapshot } from '../processes/receiver';
import { Scope } from './scope';
import { createProject, createWebhooks, Service, ServiceOptions } from './service';

/** Webhooks on all events, all pointing at the receiver: each event makes this many deliveries. */
export const WEBHOOKS = 20;
/**
 * Builds the mutation client drives at once when going as fast as sustained. Measured 2026-11-27:
 * 24 left the service short of work (6,700 deliveries/s, the backlog bound never reached), 64 and
 * 128 both gave about 7,700/s; more only queue.
 */
const PIPELINES = 64;
/** Deliveries made but not yet received before the mutation client waits (about a second of work). */
const MAX_BACKLOG = 2_000;

/** The receiver process, listening, with `count` webhook URLs on it. */
export interface Receiver {
  worker: Worker;
  targets: string[];
  count(): Promise<number>;
  snapshot(): Promise<ReceiverSnapshot>;
  /** Stops answering (an endpoint that went dark); `release` answers what waits, and all after. */
  hold(): Promise<void>;
  release(): Promise<number>;
}

export async function startReceiver(scope: Scope): Promise<Receiver> {
  const worker = await scope.worker('receiver');
  const { port } = await worker.request<{ port: number }>('listen');
  return {
    worker,
    targets: Array.from({ length: WEBHOOKS }, (_, i) => `http://127.0.0.1:${port}/hooks/${i}`),
    count: () => worker.request<number>('count'),
    snapshot: () => worker.request<ReceiverSnapshot>('snapshot'),
    hold: () => worker.request<void>('hold'),
    release: () => worker.request<number>('release'),
  };
}

/** A service with 20 webhooks on all events pointing at a receiver, a project, and a mutation client. */
export interface DeliveryRig {
  receiver: Receiver;
  mutations: Worker;
  /** The first process: it made the database, the account, the webhooks and the project. */
  service: Service;
  /** Every service process on that database: `service`, then the others, in start order. */
  processes: Service[];
  /** The processes the mutation client sends to (`service` alone unless `mutationsToAll`). */
  entries: Service[];
  projectId: string;
}

/**
 * Starts the receiver, the mutation client and a service (`options`), then `others`: more service
 * processes on the same database (e.g. `DESKFORGE_ROLES=worker`). With `mutationsToAll`, the
 * mutation client spreads its builds over all of them (see `MutationRun.urls`).
 */
export async function startDeliveryRig(
  scope: Scope,
  options: ServiceOptions = {},
  others: ServiceOptions[] = [],
  { mutationsToAll = false }: { mutationsToAll?: boolean } = {},
): Promise<DeliveryRig> {
  const receiver = await startReceiver(scope);
  const mutations = await scope.worker('mutation-client');
  const service = await scope.service(options);
  const processes = [service];
  for (const other of others)
    processes.push(await scope.service({ ...other, existing: { database: service.database, apiKey: service.apiKey } }));
  await createWebhooks(service, receiver.targets);
  const projectId = await createProject(service);
  return { receiver, mutations, service, processes, entries: mutationsToAll ? processes : [service], projectId };
}

/** How long the service may take to get its first delivery to the receiver before the figure fails. */
export const FIRST_DELIVERY_TIMEOUT_MS = 10_000;
const NO_DELIVERY = `no delivery reached the receiver within ${FIRST_DELIVERY_TIMEOUT_MS / 1000} s of the first mutation (no delivery engine?)`;

/**
 * Runs the mutation client in its as-fast-as-sustained mode while feeding it the receiver's count
 * (its backlog bound), and fails early when no delivery arrives at all. Calls `onProgress` with the
 * deliveries received since the start; returning true from it stops the run.
 */
export async function driveBuilds(
  { receiver, mutations, service, entries, projectId }: DeliveryRig,
  limits: { durationMs: number; maxEvents?: number; pipelines?: number },
  onProgress: (delivered: number) => boolean | void = () => undefined,
): Promise<MutationReport> {
  const urls = entries.length > 1 ? entries.map((entry) => entry.url) : undefined;
  const run = {
    url: service.url,
    urls,
    apiKey: service.apiKey,
    projectId,
    pipelines: PIPELINES,
    fanout: WEBHOOKS,
    maxBacklog: MAX_BACKLOG,
    ...limits,
  };
  const startCount = await receiver.count();
  const startedAt = Date.now();
  let finished = false;
  const result = mutations.request<MutationReport>('run', run, run.durationMs + 60_000).finally(() => (finished = true));
  result.catch(() => undefined);
  try {
    while (!finished) {
      const delivered = (await receiver.count()) - startCount;
      await mutations.request('progress', { delivered });
      if (delivered === 0 && Date.now() - startedAt > FIRST_DELIVERY_TIMEOUT_MS) {
        throw new Error(NO_DELIVERY);
      }
      if (onProgress(delivered)) break;
      await delay(100);
    }
  } finally {
    if (!finished) await mutations.request('stop').catch(() => undefined);
  }
  const report = await result;
  if (report.events > 0) {
    await pollUntil(
      async () => ((await receiver.count()) > startCount ? true : undefined),
      Math.max(0, startedAt + FIRST_DELIVERY_TIMEOUT_MS - Date.now()),
      NO_DELIVERY,
    );
  }
  return report;
}

/**
 * Waits until the receiver has `expected` more arrivals than `base`, or nothing arrived for
 * `stallMs`, or `timeoutMs` passed; returns the arrivals since `base`. `onCount` sees each count read.
 */
export async function waitForArrivals(
  receiver: Receiver,
  base: number,
  expected: number,
  timeoutMs = 15_000,
  stallMs = 3_000,
  onCount: (arrived: number) => void = () => undefined,
): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  const deadline = Date.now() + timeoutMs;
  return pollUntil(
    async () => {
      const arrived = (await receiver.count()) - base;
      onCount(arrived);
      if (arrived !== last) {
        last = arrived;
        lastChange = Date.now();
      }
      const done = arrived >= expected || Date.now() - lastChange > stallMs || Date.now() > deadline;
      return done ? arrived : undefined;
    },
    timeoutMs + 1_000,
    'receiver count did not settle',
  );
}

/** Stops the rig's processes (the scope would at its end): the services, last started first, then the load and the receiver. */
export async function stopDeliveryRig(rig: DeliveryRig): Promise<void> {
  for (const service of [...rig.processes].reverse()) await service.stop();
  await rig.mutations.stop();
  await rig.receiver.worker.stop();
}
