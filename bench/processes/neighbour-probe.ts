import { pace } from '../lib/pacer';
import { LatencyHistogram, SparseCounts } from '../lib/stats';
import { serveParent } from '../lib/worker';

/**
 * What another account sees of the service, sampled at a fixed rate (open loop, so a slow answer
 * never lowers the rate): one of its mutations (`updateProject`, a write that makes an event) and
 * `GET /healthz`, each timed from sending to the whole answer read.
 */
export interface ProbeRun {
  origin: string;
  apiKey: string;
  projectId: string;
  /** Mutations per second, and as many `/healthz` requests. */
  ratePerSecond: number;
  durationMs: number;
}

export interface ProbeSeries {
  latency: SparseCounts;
  sent: number;
  /** Answers other than 200 without errors, by status or error code, and socket errors. */
  failures: Record<string, number>;
}

export interface ProbeReport {
  mutations: ProbeSeries;
  healthz: ProbeSeries;
}

const UPDATE_PROJECT = `mutation ($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { id } }`;

class Series {
  readonly latency = new LatencyHistogram();
  sent = 0;
  readonly failures: Record<string, number> = {};

  async time(request: () => Promise<string | undefined>): Promise<void> {
    this.sent += 1;
    const started = performance.now();
    let failure: string | undefined;
    try {
      failure = await request();
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (failure) this.failures[failure] = (this.failures[failure] ?? 0) + 1;
    else this.latency.record(performance.now() - started);
  }

  toJSON(): ProbeSeries {
    return { latency: this.latency.toJSON(), sent: this.sent, failures: this.failures };
  }
}

serveParent({
  async run(run: ProbeRun): Promise<ProbeReport> {
    const mutations = new Series();
    const healthz = new Series();
    const inFlight = new Set<Promise<void>>();
    const track = (work: Promise<void>) => {
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    };
    await pace(run.ratePerSecond, run.durationMs, (tick) => {
      track(
        mutations.time(async () => {
          const response = await fetch(`${run.origin}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${run.apiKey}` },
            body: JSON.stringify({ query: UPDATE_PROJECT, variables: { id: run.projectId, input: { description: `probe ${tick}` } } }),
          });
          const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
          if (response.status === 200 && !body.errors?.length) return undefined;
          return body.errors?.[0]?.extensions?.code ?? `HTTP ${response.status}`;
        }),
      );
      track(
        healthz.time(async () => {
          const response = await fetch(`${run.origin}/healthz`);
          await response.arrayBuffer();
          return response.status === 200 ? undefined : `HTTP ${response.status}`;
        }),
      );
    });
    await Promise.all(inFlight);
    return { mutations: mutations.toJSON(), healthz: healthz.toJSON() };
  },
});
