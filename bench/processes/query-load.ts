import autocannon from 'autocannon';
import { serveParent } from '../lib/worker';

/** HTTP load from its own process: autocannon POSTing one GraphQL document over `connections` sockets. */
export interface QueryLoad {
  url: string;
  body: string;
  headers: Record<string, string>;
  connections: number;
  durationSeconds: number;
}

export interface QueryLoadReport {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

serveParent({
  async run(load: QueryLoad): Promise<QueryLoadReport> {
    const result = await autocannon({
      url: load.url,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...load.headers },
      body: load.body,
      connections: load.connections,
      duration: load.durationSeconds,
    });
    return {
      requestsPerSecond: result['2xx'] / result.duration,
      requests: result.requests.total,
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      latencyP50Ms: result.latency.p50,
      latencyP99Ms: result.latency.p99,
    };
  },
});
