/**
 * Delivery rate to a local receiver, end to end: 20 webhooks of one account on a keep-alive HTTP
 * receiver answering 200 at once; events are created through the services as fast as they commit,
 * and the clock stops when the last SUCCEEDED outcome has committed. With `backlog`, the events are
 * stored first by a process without the worker role, and the clock runs from the start of a worker
 * process on the same database (restart recovery).
 *
 *   npm run build && node dist/bench/delivery-smoke.js [events=250] [webhooks=20] [live|backlog]
 *
 * Prints one JSON line. A smoke check, not the benchmark suite.
 */
import 'reflect-metadata';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../src/app';
import { loadConfig } from '../src/config';
import { DeliveryStatus } from '../src/delivery/delivery-status';
import { EventType } from '../src/events/event-type';

async function main(): Promise<void> {
  const events = Number(process.argv[2] ?? 250);
  const webhooks = Number(process.argv[3] ?? 20);
  const backlog = process.argv[4] === 'backlog';
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

  const dir = mkdtempSync(join(tmpdir(), 'deskforge-bench-'));
  const base = loadConfig({});
  const configFor = (dispatch: boolean) => ({
    ...base,
    port: 0,
    databasePath: join(dir, 'bench.sqlite'),
    logLevel: 'silent',
    webhook: { ...base.webhook, allowPrivateUrls: true, dispatch },
  });
  let app = await startApp(configFor(!backlog));
  try {
    const { account } = await app.services.accounts.createAccount('Bench');
    for (let i = 0; i < webhooks; i += 1) {
      await app.services.webhooks.create(account.id, { url: `${receiverUrl}/hook/${i}`, events: [EventType.PROJECT_CREATED] });
    }
    const total = events * webhooks;
    let succeeded = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const count = (update: { status: DeliveryStatus }) => {
      if (update.status === DeliveryStatus.SUCCEEDED && (succeeded += 1) === total) resolveDone();
    };
    app.bus.subscribe('delivery', count);
    let started = performance.now();
    for (let i = 0; i < events; i += 1) await app.services.projects.create(account.id, { name: `Bench ${i}` });
    if (backlog) {
      await app.stop();
      started = performance.now();
      app = await startApp(configFor(true));
      app.bus.subscribe('delivery', count);
    }
    await done;
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(
      `${JSON.stringify({ mode: backlog ? 'backlog' : 'live', events, webhooks, deliveries: total, seconds: Number(seconds.toFixed(3)), deliveriesPerSecond: Math.round(total / seconds) })}\n`,
    );
  } finally {
    await app.stop();
    receiver.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
