import { COMPLETE_BUILD, QUEUE_BUILD, START_BUILD } from '../lib/documents';
import { graphqlRequest } from '../lib/graphql-client';
import { delay, pace } from '../lib/pacer';
import { serveParent } from '../lib/worker';

/**
 * The load that makes events: builds driven through `queueBuild` → `startBuild` → `completeBuild`
 * over GraphQL, each mutation one event. Two modes: a fixed event rate (open loop, evenly spaced),
 * or as fast as the service sustains, with a few builds in flight and a bound on the deliveries
 * not yet received (the parent reports them), so the service runs saturated but never builds an
 * ever-growing backlog.
 */
export interface MutationRun {
  url: string;
  /**
   * As fast as sustained: several processes of the service on one database, behind no balancer:
   * pipeline i sends all its mutations to `urls[i % urls.length]` (sticky, like a balancer keeping
   * connections). Omitted: every mutation goes to `url`.
   */
  urls?: string[];
  apiKey: string;
  projectId: string;
  durationMs: number;
  /** Fixed rate of mutations (= events) per second; omitted = as fast as sustained. */
  eventsPerSecond?: number;
  /** As fast as sustained: builds driven concurrently. */
  pipelines?: number;
  /** As fast as sustained: deliveries per event (webhooks subscribed), for the backlog bound. */
  fanout?: number;
  /** As fast as sustained: most deliveries made but not yet received. */
  maxBacklog?: number;
  /** Stop after this many events. */
  maxEvents?: number;
}

export interface MutationReport {
  /** Successful mutations, i.e. events created. */
  events: number;
  failed: number;
  /** Fixed rate: ticks skipped because too many mutations were already in flight. */
  skipped: number;
  /** As fast as sustained: share of pipeline time spent waiting on the backlog bound (near 0: the mutations were the limit). */
  throttled: number;
  errors: string[];
}

/** Fixed rate: beyond this many mutations awaiting an answer, ticks are skipped (and counted). */
const MAX_IN_FLIGHT = 256;
const QUEUE_INPUT = { version: '1.0.0', platform: 'MAC', arch: 'ARM64' };
const COMPLETE_INPUT = { status: 'SUCCESS', artifactUrl: 'https://cdn.example.com/app.dmg' };

let delivered = 0;
let stopped = false;

class Builds {
  readonly report: MutationReport = { events: 0, failed: 0, skipped: 0, throttled: 0, errors: [] };

  constructor(private readonly run: MutationRun) {}

  private async mutate<T>(query: string, variables: Record<string, unknown>, url = this.run.url): Promise<T | undefined> {
    try {
      const data = await graphqlRequest<T>(url, this.run.apiKey, query, variables);
      this.report.events += 1;
      return data;
    } catch (error) {
      this.report.failed += 1;
      const message = error instanceof Error ? error.message : String(error);
      if (this.report.errors.length < 5 && !this.report.errors.includes(message)) this.report.errors.push(message);
      if (this.report.events === 0 && this.report.failed >= 20) throw new Error(`every mutation fails: ${message}`, { cause: error });
      return undefined;
    }
  }

  async queue(url?: string): Promise<string | undefined> {
    const data = await this.mutate<{ queueBuild: { id: string } }>(
      QUEUE_BUILD,
      { input: { projectId: this.run.projectId, ...QUEUE_INPUT } },
      url,
    );
    return data?.queueBuild.id;
  }

  async start(id: string, url?: string): Promise<boolean> {
    return (await this.mutate(START_BUILD, { id }, url)) !== undefined;
  }

  async complete(id: string, url?: string): Promise<boolean> {
    return (await this.mutate(COMPLETE_BUILD, { id, input: COMPLETE_INPUT }, url)) !== undefined;
  }
}

/** Evenly spaced mutations: each tick advances one build by one step, starting a new one when none waits. */
async function fixedRate(builds: Builds, run: MutationRun): Promise<void> {
  const queued: string[] = [];
  const running: string[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };
  let fatal: unknown;
  const guard = (work: Promise<void>) => track(work.catch((error) => (fatal ??= error)));
  await pace(run.eventsPerSecond!, run.durationMs, (tick) => {
    if (stopped || fatal) return;
    if (inFlight.size >= MAX_IN_FLIGHT) {
      builds.report.skipped += 1;
      return;
    }
    const step = tick % 3;
    if (step === 2 && running.length > 0) {
      guard(builds.complete(running.shift()!).then(() => undefined));
    } else if (step >= 1 && queued.length > 0) {
      const id = queued.shift()!;
      guard(builds.start(id).then((ok) => void (ok && running.push(id))));
    } else {
      guard(builds.queue().then((id) => void (id && queued.push(id))));
    }
  });
  await Promise.all(inFlight);
  if (fatal) throw fatal;
}

/** Concurrent build pipelines, each waiting while too many deliveries are outstanding. */
async function asFastAsSustained(builds: Builds, run: MutationRun): Promise<void> {
  const endAt = Date.now() + run.durationMs;
  const fanout = run.fanout ?? 1;
  const maxBacklog = run.maxBacklog ?? Infinity;
  const maxEvents = run.maxEvents ?? Infinity;
  const going = () => !stopped && Date.now() < endAt && builds.report.events < maxEvents;
  let waitedMs = 0;
  const step = async <T>(work: () => Promise<T>): Promise<T | undefined> => {
    const waitStart = Date.now();
    while (going() && builds.report.events * fanout - delivered > maxBacklog) await delay(5);
    waitedMs += Date.now() - waitStart;
    return going() ? work() : undefined;
  };
  const urls = run.urls?.length ? run.urls : [run.url];
  const pipeline = async (index: number) => {
    const url = urls[index % urls.length];
    while (going()) {
      const id = await step(() => builds.queue(url));
      if (!id) continue;
      if (!(await step(() => builds.start(id, url)))) continue;
      await step(() => builds.complete(id, url));
    }
  };
  const pipelines = run.pipelines ?? 4;
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: pipelines }, (_, index) => pipeline(index)));
  builds.report.throttled = waitedMs / (pipelines * Math.max(1, Date.now() - startedAt));
}

serveParent({
  async run(run: MutationRun): Promise<MutationReport> {
    stopped = false;
    delivered = 0;
    const builds = new Builds(run);
    await (run.eventsPerSecond ? fixedRate(builds, run) : asFastAsSustained(builds, run));
    return builds.report;
  },
  /** Deliveries received so far, counted from the start of this run (for the backlog bound). */
  progress(args: { delivered: number }): void {
    delivered = args.delivered;
  },
  stop(): void {
    stopped = true;
  },
});
