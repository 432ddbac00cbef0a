import { Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { ArrivalCounter, LatencyHistogram, SparseCounts } from '../lib/stats';
import { serveParent } from '../lib/worker';

/**
 * Many live clients in one process: `graphql-ws` clients (with `ws`) subscribed to the service, or
 * bare `ws` clients of the broadcast baseline. Each message counts for its subscriber, per 100 ms,
 * and for the createdAt → receipt latency.
 */
export interface ConnectArgs {
  url: string;
  count: number;
  mode: 'graphql-ws' | 'bare';
  /** graphql-ws: the key for `connectionParams`, and the subscription document. */
  apiKey?: string;
  query?: string;
}

export interface ConnectReport {
  connected: number;
  failed: number;
  errors: string[];
}

export interface SubscribersSnapshot {
  received: number;
  minPerSubscriber: number;
  maxPerSubscriber: number;
  /** Sockets that closed or errored since they connected. */
  lost: number;
  arrivals: SparseCounts;
  latency: SparseCounts;
  errors: string[];
}

interface EventMessage {
  data?: { events?: { createdAt?: string } };
}

const CONNECT_PARALLELISM = 50;
const CONNECT_TIMEOUT_MS = 20_000;

let received: number[] = [];
const closers: Array<() => void> = [];
let lost = 0;
let errors: string[] = [];
const arrivals = new ArrivalCounter();
let latency = new LatencyHistogram();
let closing = false;

function noteError(message: string): void {
  if (errors.length < 5 && !errors.includes(message)) errors.push(message);
}

function onEvent(index: number, message: EventMessage | undefined): void {
  const now = Date.now();
  received[index] += 1;
  arrivals.add(now);
  const createdAt = Date.parse(message?.data?.events?.createdAt ?? '');
  if (Number.isNaN(createdAt)) noteError('a message without data.events.createdAt');
  else latency.record(now - createdAt);
}

function onLost(reason: string): void {
  if (closing) return;
  lost += 1;
  noteError(reason);
}

/** A graphql-ws client subscribed to the document; resolves once the server acknowledged the connection. */
function connectGraphqlWs(index: number, args: ConnectArgs): Promise<() => void> {
  return new Promise((resolve, reject) => {
    let acknowledged = false;
    const client: Client = createClient({
      url: args.url,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${args.apiKey}` },
      retryAttempts: 0,
      keepAlive: 0,
      on: {
        connected: () => {
          acknowledged = true;
          resolve(() => void client.dispose());
        },
        closed: (event) => {
          const code = (event as { code?: number }).code;
          if (acknowledged) onLost(`socket closed (${code})`);
          else reject(new Error(`closed before acknowledgement (${code})`));
        },
      },
    });
    client.subscribe<EventMessage['data']>(
      { query: args.query! },
      {
        next: (result) => onEvent(index, result as EventMessage),
        error: (error) => {
          const message = Array.isArray(error)
            ? error.map((e) => e.message).join('; ')
            : error instanceof Error
              ? error.message
              : 'subscription error';
          if (acknowledged) onLost(message);
          else reject(new Error(message));
        },
        complete: () => onLost('subscription completed by the server'),
      },
    );
  });
}

/** A bare `ws` client of the broadcast baseline; messages carry the same bytes as graphql-ws `next`. */
function connectBare(index: number, args: ConnectArgs): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(args.url);
    socket.on('open', () => resolve(() => socket.close()));
    socket.on('message', (data: Buffer) => onEvent(index, (JSON.parse(data.toString('utf8')) as { payload?: EventMessage }).payload));
    socket.on('error', (error) => reject(error));
    socket.on('close', (code) => onLost(`socket closed (${code})`));
  });
}

function minimum(counts: number[]): number {
  return counts.length ? counts.reduce((min, n) => Math.min(min, n), Infinity) : 0;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}

serveParent({
  async connect(args: ConnectArgs): Promise<ConnectReport> {
    closing = false;
    received = new Array<number>(args.count).fill(0);
    const report: ConnectReport = { connected: 0, failed: 0, errors: [] };
    let next = 0;
    const worker = async () => {
      while (next < args.count) {
        const index = next++;
        const connect = args.mode === 'bare' ? connectBare(index, args) : connectGraphqlWs(index, args);
        try {
          closers.push(await withTimeout(connect, CONNECT_TIMEOUT_MS, 'no connection acknowledgement within 20 s'));
          report.connected += 1;
        } catch (error) {
          report.failed += 1;
          const message = error instanceof Error ? error.message : String(error);
          if (report.errors.length < 5 && !report.errors.includes(message)) report.errors.push(message);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECT_PARALLELISM }, worker));
    return report;
  },
  /** Starts counting afresh (after the warm-up message). */
  reset(): void {
    received.fill(0);
    arrivals.reset();
    latency = new LatencyHistogram();
    lost = 0;
    errors = [];
  },
  snapshot(): SubscribersSnapshot {
    return {
      received: arrivals.total,
      minPerSubscriber: minimum(received),
      maxPerSubscriber: received.reduce((max, n) => Math.max(max, n), 0),
      lost,
      arrivals: arrivals.toJSON(),
      latency: latency.toJSON(),
      errors,
    };
  },
  /** Messages received so far, and the fewest any one subscriber got (cheap; for polling). */
  progress(): { total: number; min: number } {
    return { total: arrivals.total, min: minimum(received) };
  },
  disconnect(): void {
    closing = true;
    for (const close of closers.splice(0)) close();
  },
});
