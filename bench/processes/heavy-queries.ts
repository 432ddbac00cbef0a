import { LatencyHistogram, SparseCounts } from '../lib/stats';
import { serveParent } from '../lib/worker';

/**
 * One account's heavy reads, as many at once as `loops`: each loop POSTs `query` again as soon as
 * the previous answer (or refusal) has been read, until `durationMs` has passed or `stop`. The
 * noisy neighbour of the `noisy-neighbour` scenario.
 */
export interface HeavyRun {
  url: string;
  apiKey: string;
  query: string;
  loops: number;
  durationMs: number;
}

export interface HeavyReport {
  /** Answers with data and no error. */
  ok: number;
  /** Answers by error code (`RATE_LIMITED`, `TIMEOUT`, `RESPONSE_TOO_LARGE`, …; `HTTP <status>` without one). */
  refused: Record<string, number>;
  /** Requests that failed on the socket. */
  failed: number;
  /** Bytes of all the answers read. */
  bytes: number;
  /** Time of the successful answers. */
  latency: SparseCounts;
}

let stopped = false;

async function once(run: HeavyRun, report: HeavyReport, latency: LatencyHistogram): Promise<void> {
  const started = performance.now();
  try {
    const response = await fetch(run.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${run.apiKey}` },
      body: JSON.stringify({ query: run.query }),
    });
    const text = await response.text();
    report.bytes += text.length;
    let code: string | undefined;
    try {
      code = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.[0]?.extensions?.code;
    } catch {
      code = undefined;
    }
    if (response.status === 200 && !code) {
      report.ok += 1;
      latency.record(performance.now() - started);
    } else {
      const key = code ?? `HTTP ${response.status}`;
      report.refused[key] = (report.refused[key] ?? 0) + 1;
    }
  } catch {
    report.failed += 1;
  }
}

serveParent({
  async run(run: HeavyRun): Promise<HeavyReport> {
    stopped = false;
    const report: HeavyReport = { ok: 0, refused: {}, failed: 0, bytes: 0, latency: [] };
    const latency = new LatencyHistogram();
    const endAt = Date.now() + run.durationMs;
    const loop = async () => {
      while (!stopped && Date.now() < endAt) await once(run, report, latency);
    };
    await Promise.all(Array.from({ length: run.loops }, loop));
    report.latency = latency.toJSON();
    return report;
  },
  stop(): void {
    stopped = true;
  },
});
