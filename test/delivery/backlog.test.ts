import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seedBacklog } from '../../bench/lib/backlog-seed';
import { readRssBytes } from '../../bench/lib/rss';
import { ensureBuilt } from '../helpers/build';
import { ChildServer, createAccountWithCli, spawnServer } from '../helpers/child-server';
import { waitFor } from '../helpers/wait-for';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

const MIB = 1024 * 1024;
const EVENTS = 10_000;
const WEBHOOKS = 20;

/**
 * A backlog of 200,000 pending deliveries lives in the database, not in the process: a restart is
 * healthy within seconds, memory stays bounded while it drains, and every delivery arrives.
 */
describe('a backlog of 200,000 pending deliveries', () => {
  let dir: string;
  let receiver: Server;
  let child: ChildServer | undefined;
  const received = new Set<string>();
  let requests = 0;

  beforeAll(async () => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'deskforge-backlog-'));
    // A bare counting receiver: a recording one would hold 200,000 requests in this process.
    receiver = createServer((req, res) => {
      requests += 1;
      received.add(String(req.headers['x-deskforge-delivery']));
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  }, 120_000);
  afterAll(async () => {
    if (child && child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
    await child?.exited;
    await new Promise((resolve) => receiver.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts healthy within seconds, keeps memory bounded while draining, and delivers every one', async () => {
    const databasePath = freshDatabase(dir, 'backlog');
    const { accountId } = createAccountWithCli(databasePath);
    const port = (receiver.address() as AddressInfo).port;
    const urls = Array.from({ length: WEBHOOKS }, (_, i) => `http://127.0.0.1:${port}/hook/${i}`);
    expect(await seedBacklog(databasePath, { events: EVENTS, urls, accountId })).toBe(EVENTS * WEBHOOKS);

    const started = Date.now();
    child = await spawnServer({ ...databaseEnv(databasePath), WEBHOOK_ALLOW_PRIVATE_URLS: 'true' }, 30_000);
    const origin = child.url.replace(/\/graphql$/, '');
    await waitFor(async () => (await fetch(`${origin}/healthz`)).status === 200, { timeoutMs: 5_000, what: '/healthz' });
    const healthyAfterMs = Date.now() - started;
    expect(healthyAfterMs).toBeLessThan(5_000);

    let peak = 0;
    await waitFor(
      () => {
        peak = Math.max(peak, readRssBytes(child!.process.pid!) ?? 0);
        return received.size === EVENTS * WEBHOOKS;
      },
      { timeoutMs: 420_000, intervalMs: 200, what: `all ${EVENTS * WEBHOOKS} deliveries (have ${received.size})` },
    );
    // Before the database was the queue, this backlog took the process to ~780 MiB.
    expect(peak).toBeLessThan(300 * MIB);
    // Each delivery arrived once: nothing was in flight at a crash here, so nothing repeats.
    expect(requests).toBe(EVENTS * WEBHOOKS);
    process.stdout.write(
      `backlog: healthy after ${healthyAfterMs} ms, peak RSS ${(peak / MIB).toFixed(0)} MiB, drained in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
  }, 480_000);
});
