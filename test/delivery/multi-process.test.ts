import { ChildServer, createAccountWithCli, useChildServers } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { connectLiveOk } from '../helpers/live-client';
import { Receiver } from '../helpers/receiver';
import { storedRows } from '../helpers/stored';
import { waitFor } from '../helpers/wait-for';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

const SECRET = 'multi-process-secret-0123';
const WORKER_CONCURRENCY = 4;

/**
 * One `api` process and two `worker` processes on one SQLite file, as real processes: the API
 * accepts work, the workers share it through the deliveries table, and a kill -9 of one worker
 * costs only the attempts it had in flight.
 */
describe('one api and two workers on one SQLite file', () => {
  const rig = useChildServers(SECRET);
  let databasePath: string;
  let receiver: Receiver;
  beforeEach(() => {
    databasePath = freshDatabase(rig.dir, 'shared');
    receiver = rig.receiver;
  });

  function start(roles: string, env: Record<string, string> = {}): Promise<ChildServer> {
    return rig.spawn({
      ...databaseEnv(databasePath),
      DESKFORGE_ROLES: roles,
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_DELAYS_MS: '200,400,800',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_LEASE_MS: '3000',
      WEBHOOK_CONCURRENCY: String(WORKER_CONCURRENCY),
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      LOG_LEVEL: 'debug',
      ...env,
    });
  }

  const ownerOf = (worker: ChildServer) => worker.logs.find((entry) => entry.msg === 'delivery worker started')?.owner as string;
  const attemptsBy = (worker: ChildServer) => worker.logs.filter((entry) => entry.msg === 'webhook attempt').length;

  async function deliveries(
    api: ChildServer,
    apiKey: string,
    webhookId: string,
  ): Promise<Array<{ id: string; status: string; event: { id: string } }>> {
    const data = await gqlOk(
      api.url,
      'query ($id: ID!) { deliveries(first: 100, webhookId: $id) { nodes { id status event { id } } } }',
      { id: webhookId },
      apiKey,
    );
    return data.deliveries.nodes;
  }

  it('the api alone delivers nothing; two workers deliver everything; kill -9 of one loses nothing and repeats only its attempts in flight', async () => {
    const { apiKey } = createAccountWithCli(databasePath);
    const api = await start('api');
    expect(api.logs.find((entry) => entry.msg === 'delivery worker started')).toBeUndefined();
    receiver.reply(() => ({ delayMs: 40 }));
    const webhook = await createWebhook(api.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    for (let i = 0; i < 5; i += 1) await gqlOk(api.url, CREATE_PROJECT, { input: { name: `Before ${i}` } }, apiKey);
    const waiting = await storedRows<{ status: string; leaseOwner: string | null }>(
      databasePath,
      'SELECT status, "leaseOwner" FROM deliveries',
    );
    expect(waiting).toEqual(Array.from({ length: 5 }, () => ({ status: 'pending', leaseOwner: null })));
    expect(receiver.requests).toHaveLength(0);

    const first = await start('worker');
    const second = await start('worker');
    // A worker serves health and metrics only.
    const origin = first.url.replace(/\/graphql$/, '');
    expect((await fetch(`${origin}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${origin}/metrics`)).text()).toContain('deskforge_webhook_deliveries_total');
    expect(
      (await fetch(first.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ viewer { id } }"}' }))
        .status,
    ).toBe(404);

    const projects = 60;
    for (let i = 0; i < projects; i += 1) await gqlOk(api.url, CREATE_PROJECT, { input: { name: `Load ${i}` } }, apiKey);
    await waitFor(() => attemptsBy(first) >= 5, { what: 'the first worker to make attempts' });
    first.process.kill('SIGKILL');
    await first.exited;
    const heldByKilled = await storedRows<{ id: string }>(
      databasePath,
      `SELECT id FROM deliveries WHERE status = 'pending' AND "leaseOwner" = ?`,
      [ownerOf(first)],
    );

    const ended = await waitFor(
      async () => {
        const nodes = await deliveries(api, apiKey, webhook.id);
        return nodes.length === projects + 5 && nodes.every((node) => node.status === 'SUCCEEDED') && nodes;
      },
      { timeoutMs: 30_000, what: 'every delivery to succeed' },
    );
    expect(attemptsBy(second)).toBeGreaterThan(0);
    // Every event arrived, each validly signed.
    expect(new Set(receiver.requests.map((request) => request.body.id))).toEqual(new Set(ended.map((node) => node.event.id)));
    expect(receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);
    // Repeats: only deliveries the killed worker held (its attempts in flight), with the same id and body.
    const byDelivery = new Map<string, string[]>();
    for (const request of receiver.requests) {
      const id = request.headers['x-deskforge-delivery'] as string;
      byDelivery.set(id, [...(byDelivery.get(id) ?? []), request.raw.toString('utf8')]);
    }
    const repeated = [...byDelivery].filter(([, bodies]) => bodies.length > 1);
    expect(repeated.length).toBeLessThanOrEqual(WORKER_CONCURRENCY);
    for (const [id, bodies] of repeated) {
      expect(heldByKilled.map((row) => row.id)).toContain(id);
      expect(new Set(bodies).size).toBe(1);
    }
    // What the killed worker held was taken over once its leases ran out.
    const left = await storedRows(databasePath, 'SELECT id FROM deliveries WHERE "leaseOwner" IS NOT NULL');
    expect(left).toEqual([]);
  }, 90_000);

  it("an api process's deliveryUpdated subscribers see the workers' outcomes, and a rotated secret signs the workers' deliveries within a second", async () => {
    const { apiKey } = createAccountWithCli(databasePath);
    const api = await start('api');
    await start('worker');
    const webhook = await createWebhook(api.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    const live = await connectLiveOk(api.url.replace(/^http/, 'ws'), apiKey);
    try {
      const updates = live.subscribe('subscription ($w: ID) { deliveryUpdated(webhookId: $w) { id status attemptCount } }', {
        w: webhook.id,
      });
      const metricsUrl = api.url.replace(/\/graphql$/, '/metrics');
      await waitFor(async () => /^deskforge_subscriptions_active 1$/m.test(await (await fetch(metricsUrl)).text()), {
        what: 'the subscription to be active',
      });
      const project = await gqlOk(api.url, CREATE_PROJECT, { input: { name: 'Watched' } }, apiKey);
      const [done] = await waitFor(
        () =>
          updates.data.filter((data) => data.deliveryUpdated.status === 'SUCCEEDED').length > 0 &&
          updates.data.filter((data) => data.deliveryUpdated.status === 'SUCCEEDED'),
      );
      expect(done.deliveryUpdated.attemptCount).toBe(1);
      expect(receiver.requests.map((request) => request.body.data.project.id)).toContain(project.createProject.id);

      const rotatedSecret = 'multi-process-rotated-4567';
      await gqlOk(
        api.url,
        'mutation ($id: ID!, $s: String) { rotateWebhookSecret(id: $id, secret: $s) { secret } }',
        { id: webhook.id, s: rotatedSecret },
        apiKey,
      );
      const rotatedAt = Date.now();
      receiver.secret = rotatedSecret;
      // Keep committing until an event committed a second after the rotation has arrived.
      const late = await waitFor(
        async () => {
          const committedAt = Date.now();
          const { createProject } = await gqlOk(api.url, CREATE_PROJECT, { input: { name: 'After rotation' } }, apiKey);
          if (committedAt - rotatedAt < 1_000) return false;
          return waitFor(() => receiver.requests.find((request) => request.body.data.project.id === createProject.id));
        },
        { timeoutMs: 15_000, intervalMs: 100, what: 'a delivery committed a second after the rotation' },
      );
      expect(late.deskforgeValid).toBe(true);
      expect(late.standardValid).toBe(true);
    } finally {
      await live.close();
    }
  }, 60_000);
});
