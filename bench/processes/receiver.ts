import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { ArrivalCounter, LatencyHistogram, SparseCounts } from '../lib/stats';
import { serveParent } from '../lib/worker';

/**
 * The webhook receiver: a bare `http` server that answers every POST with 200, counts arrivals per
 * 100 ms and, for bodies whose `createdAt` falls in the latency window, records createdAt → receipt.
 * Service deliveries and the bare sender's POSTs land here alike.
 */
export interface ReceiverSnapshot {
  total: number;
  arrivals: SparseCounts;
  latency: SparseCounts;
  /** Bodies that were not the JSON the contract promises. */
  malformed: number;
}

const arrivals = new ArrivalCounter();
let latency = new LatencyHistogram();
let latencyWindow: { from: number; to: number } | undefined;
let malformed = 0;
/** While set, requests wait unanswered (an endpoint that stopped answering); `release` answers them. */
let held: Array<() => void> | null = null;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const now = Date.now();
    arrivals.add(now);
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string; createdAt?: string };
      const createdAt = Date.parse(body.createdAt ?? '');
      if (!body.id || Number.isNaN(createdAt)) malformed += 1;
      else if (latencyWindow && createdAt >= latencyWindow.from && createdAt < latencyWindow.to) latency.record(now - createdAt);
    } catch {
      malformed += 1;
    }
    const answer = () => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
      res.end('ok');
    };
    if (held) held.push(answer);
    else answer();
  });
});
server.keepAliveTimeout = 60_000;

serveParent({
  async listen(): Promise<{ port: number }> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { port: (server.address() as AddressInfo).port };
  },
  /** Records latency only for events created in [from, to) (wall-clock ms), so warm-up stays out. */
  latencyWindow(args: { from: number; to: number }): void {
    latency = new LatencyHistogram();
    latencyWindow = args;
  },
  snapshot(): ReceiverSnapshot {
    return { total: arrivals.total, arrivals: arrivals.toJSON(), latency: latency.toJSON(), malformed };
  },
  count(): number {
    return arrivals.total;
  },
  /** Stops answering (requests are still counted as they arrive). */
  hold(): void {
    held ??= [];
  },
  /** Answers everything held, and everything after. */
  release(): number {
    const waiting = held ?? [];
    held = null;
    for (const answer of waiting) answer();
    return waiting.length;
  },
});
