import 'reflect-metadata';
import { createClient } from 'graphql-ws';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import WebSocket from 'ws';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';

/**
 * Live fan-out: N WebSocket clients (one subscription each, in a worker thread so they do not share
 * the server's event loop) watch one account while the main thread commits E project updates one
 * after another, each once every subscriber has the previous one. Latency is commit (the bus
 * publish right after it) to a client's receipt of the parsed message.
 *
 *   npm run build && node dist/bench/live-latency.js --subscribers 1000 --events 100
 */

const SUBSCRIPTION = 'subscription { events { id type createdAt data { project { id name } } } }';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across threads. */
const now = () => performance.timeOrigin + performance.now();

interface ClientsData {
  wsUrl: string;
  apiKey: string;
  subscribers: number;
}

type FromClients = { kind: 'ready' } | { kind: 'received'; eventId: string; at: number[] };

/** The worker: opens every client, then reports, per event, when each of them received it. */
async function runClients({ wsUrl, apiKey, subscribers }: ClientsData): Promise<void> {
  const port = parentPort!;
  const receipts = new Map<string, number[]>();
  const clients = Array.from({ length: subscribers }, () =>
    createClient({ url: wsUrl, webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: { authorization: `Bearer ${apiKey}` } }),
  );
  for (const client of clients) {
    client.subscribe<{ events: { id: string } }>(
      { query: SUBSCRIPTION },
      {
        next: (result) => {
          const eventId = result.data!.events.id;
          const at = receipts.get(eventId) ?? [];
          at.push(now());
          receipts.set(eventId, at);
          if (at.length === subscribers) {
            receipts.delete(eventId);
            port.postMessage({ kind: 'received', eventId, at } satisfies FromClients);
          }
        },
        error: (error) => {
          process.stderr.write(`subscriber failed: ${JSON.stringify(error)}\n`);
          process.exit(1);
        },
        complete: () => {},
      },
    );
  }
  port.postMessage({ kind: 'ready' } satisfies FromClients);
  port.on('message', async () => {
    await Promise.all(clients.map((client) => client.dispose()));
    port.close();
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { subscribers: { type: 'string', default: '1000' }, events: { type: 'string', default: '100' } },
  });
  const subscribers = Number(values.subscribers);
  const events = Number(values.events);
  const dir = mkdtempSync(join(tmpdir(), 'deskforge-live-bench-'));
  const config = { ...loadConfig({}), port: 0, databasePath: join(dir, 'bench.sqlite'), logLevel: 'warn' };
  const app = await startApp(config, { logger: createLogger('warn') });
  try {
    const { key } = await app.services.accounts.createAccount('Bench');
    const viewer = (await app.services.accounts.authenticate(key))!;
    const project = await app.services.projects.create(viewer.accountId, { name: 'bench' });
    const committedAt = new Map<string, number>();
    app.bus.subscribe('event', (event) => committedAt.set(event.id, now()));

    const worker = new Worker(__filename, {
      workerData: { wsUrl: app.url.replace(/^http/, 'ws'), apiKey: key, subscribers } satisfies ClientsData,
    });
    const waiting = new Map<string, (at: number[]) => void>();
    const early = new Map<string, number[]>();
    worker.on('message', (message: FromClients) => {
      if (message.kind !== 'received') return;
      const resolve = waiting.get(message.eventId);
      if (resolve) resolve(message.at);
      else early.set(message.eventId, message.at);
    });
    await new Promise<void>((resolve) => worker.once('message', () => resolve()));
    const connectStarted = now();
    while ((await app.metrics.subscriptionsActive.get()).values[0].value < subscribers) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const connectMs = now() - connectStarted;
    const rssMb = process.memoryUsage().rss / 1024 / 1024;

    const latencies: number[] = [];
    const started = now();
    for (let i = 0; i < events; i += 1) {
      await app.services.projects.update(viewer.accountId, project.id, { name: `bench ${i}` });
      const eventId = [...committedAt.keys()].at(-1)!;
      const at = early.get(eventId) ?? (await new Promise<number[]>((resolve) => waiting.set(eventId, resolve)));
      for (const receivedAt of at) latencies.push(receivedAt - committedAt.get(eventId)!);
    }
    const seconds = (now() - started) / 1000;
    worker.postMessage('stop');
    await new Promise((resolve) => worker.once('exit', resolve));

    latencies.sort((a, b) => a - b);
    const ms = (value: number) => `${value.toFixed(1)} ms`;
    process.stdout.write(
      [
        `subscribers: ${subscribers} (all subscribed ${ms(connectMs)} after the clients were created; process RSS, server and clients, ${rssMb.toFixed(0)} MB)`,
        `events: ${events}, deliveries: ${latencies.length} in ${seconds.toFixed(1)} s (${Math.round(latencies.length / seconds)} deliveries/s)`,
        `latency commit → client: p50 ${ms(percentile(latencies, 50))}, p90 ${ms(percentile(latencies, 90))}, p99 ${ms(percentile(latencies, 99))}, max ${ms(latencies.at(-1)!)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await app.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMainThread) {
  main().catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
} else {
  void runClients(workerData as ClientsData);
}
