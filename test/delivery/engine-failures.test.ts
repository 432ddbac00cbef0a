import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, gqlOk } from '../helpers/graphql';
import { connectLiveOk } from '../helpers/live-client';
import { startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';
import { refuseInserts, sql } from '../helpers/test-database';

/** Every JSON log line a logger writes, parsed. */
function capturingLogger(): { lines: Array<Record<string, unknown>>; logger: ReturnType<typeof createLogger> } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger('info', destination) };
}

const counter = async (server: TestServer, name: string): Promise<number> => {
  const text = await (await fetch(`${server.origin}/metrics`)).text();
  const match = new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : 0;
};

describe('deleting a webhook with pending deliveries', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('fails them visibly: a deliveryUpdated for each, and counted as failed', async () => {
    const account = await createAccount(server.app);
    const webhook = await createWebhook(server.url, account.apiKey, { url: 'http://127.0.0.1:9/gone', events: ['PROJECT_CREATED'] });
    for (let i = 0; i < 3; i += 1) await createProject(server.url, account.apiKey, `Pending ${i}`);
    const live = await connectLiveOk(server.wsUrl, account.apiKey);
    try {
      const updates = live.subscribe('subscription ($w: ID) { deliveryUpdated(webhookId: $w) { id status } }', { w: webhook.id });
      await waitFor(async () => (await server.app.metrics.subscriptionsActive.get()).values[0]?.value === 1);
      const failedBefore = await counter(server, 'deskforge_webhook_deliveries_total{outcome="failed"}');
      const { deleteWebhook } = await gqlOk(
        server.url,
        'mutation ($id: ID!) { deleteWebhook(id: $id) { deleted } }',
        { id: webhook.id },
        account.apiKey,
      );
      expect(deleteWebhook.deleted).toBe(true);
      const received = await updates.waitForData(3);
      expect(received.map((data) => data.deliveryUpdated.status)).toEqual(['FAILED', 'FAILED', 'FAILED']);
      expect(new Set(received.map((data) => data.deliveryUpdated.id)).size).toBe(3);
      expect(await counter(server, 'deskforge_webhook_deliveries_total{outcome="failed"}')).toBe(failedBefore + 3);
    } finally {
      await live.close();
    }
  });
});

describe('an outcome the database keeps refusing', () => {
  let server: TestServer;
  let receiver: Receiver;
  const { lines, logger } = capturingLogger();
  beforeAll(async () => {
    server = await startDeliveryServer(
      { logLevel: 'info', webhook: { recordRetry: { firstMs: 50, maxMs: 200 }, leaseMs: 30_000 } },
      { logger },
    );
    receiver = await startReceiver('engine-failures-secret-01');
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it('is stored again with a bounded back-off, logged once per try and counted, and the request is not made again', async () => {
    const account = await createAccount(server.app);
    const webhook = await createWebhook(server.url, account.apiKey, {
      url: receiver.url,
      events: ['PROJECT_CREATED'],
      secret: receiver.secret,
    });
    const allowAttempts = await refuseInserts(
      server.app.db.dataSource,
      'delivery_attempts',
      'refuse_attempts',
      'injected: the database refuses',
    );
    await createProject(server.url, account.apiKey, 'Unrecordable');
    await waitFor(() => lines.filter((line) => line.msg === 'could not store a webhook attempt; trying again').length >= 5, {
      what: 'five failed tries',
    });
    const tries = lines.filter((line) => line.msg === 'could not store a webhook attempt; trying again');
    // Doubling from 50 ms, at most 200 ms: never a fixed rate.
    expect(tries.slice(0, 5).map((line) => line.retryInMs)).toEqual([50, 100, 200, 200, 200]);
    expect(await counter(server, 'deskforge_webhook_record_failures_total')).toBeGreaterThanOrEqual(5);
    await allowAttempts();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhook.id);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attemptCount).toBe(1);
    // The attempt was made once; only its storing was retried.
    expect(receiver.requests).toHaveLength(1);
  });
});

describe('claimed deliveries waiting behind a slow endpoint', () => {
  let server: TestServer;
  let receiver: Receiver;
  beforeAll(async () => {
    // One attempt at a time to the webhook, each held to its 300 ms timeout; leases of 1 s: the
    // deliveries claimed together cannot all start before their leases run out.
    server = await startDeliveryServer({
      shutdownGraceMs: 100,
      webhook: { concurrency: 2, endpointConcurrency: 1, timeoutMs: 300, leaseMs: 1_000, retryDelaysMs: [60_000] },
    });
    receiver = await startReceiver('engine-failures-secret-02');
    receiver.reply(() => ({ hang: true }));
  });
  afterAll(async () => {
    await server.stop();
    await receiver.close();
  });

  it('are let go when their lease would run out mid-attempt, so no delivery is attempted twice at once', async () => {
    const account = await createAccount(server.app);
    const webhook = await createWebhook(server.url, account.apiKey, {
      url: receiver.url,
      events: ['PROJECT_CREATED'],
      secret: receiver.secret,
    });
    for (let i = 0; i < 6; i += 1) await createProject(server.url, account.apiKey, `Slow ${i}`);
    await waitFor(
      async () => {
        const rows: Array<{ attemptCount: number }> = await sql(
          server.app.db.reader,
          'SELECT "attemptCount" FROM deliveries WHERE "webhookId" = ?',
          [webhook.id],
        );
        return rows.length === 6 && rows.every((row) => row.attemptCount === 1);
      },
      { timeoutMs: 15_000, what: 'a first attempt of each delivery' },
    );
    const ids = receiver.requests.map((request) => request.headers['x-deskforge-delivery']);
    expect(new Set(ids).size).toBe(6);
    expect(ids).toHaveLength(6);
  }, 20_000);
});
