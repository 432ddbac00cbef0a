import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount } from '../helpers/graphql';
import { listDeliveries, startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

describe('per-endpoint isolation', () => {
  let server: TestServer;
  let hanging: Receiver;
  let healthy: Receiver;

  beforeAll(async () => {
    server = await startDeliveryServer({
      shutdownGraceMs: 200,
      // One account holds at most concurrency − endpointConcurrency = 3 slots: 2 for the dead endpoint, 1 left.
      webhook: { concurrency: 5, endpointConcurrency: 2, timeoutMs: 10_000, leaseMs: 20_000 },
    });
    hanging = await startReceiver('isolation-secret-0123');
    healthy = await startReceiver('isolation-secret-0123');
    hanging.reply(() => ({ hang: true }));
  });
  afterAll(async () => {
    await server.stop();
    await hanging.close();
    await healthy.close();
  });

  it('a hanging endpoint holds only its own share: another webhook gets every event meanwhile', async () => {
    const account = await createAccount(server.app);
    const events = ['PROJECT_CREATED'];
    const dead = await createWebhook(server.url, account.apiKey, { url: hanging.url, events, secret: hanging.secret });
    const alive = await createWebhook(server.url, account.apiKey, { url: healthy.url, events, secret: healthy.secret });
    const started = Date.now();
    for (let i = 0; i < 20; i += 1) await createProject(server.url, account.apiKey, `Project ${i}`);

    const delivered = await waitForEnded(server, account.apiKey, 20, alive.id, 5_000);
    const elapsed = Date.now() - started;
    expect(delivered.every((d) => d.status === 'SUCCEEDED')).toBe(true);
    expect(healthy.requests).toHaveLength(20);
    // Each request carries the id of a delivery of that webhook (the outbox's bus message matches the rows).
    expect(new Set(healthy.requests.map((r) => r.headers['x-deskforge-delivery']))).toEqual(new Set(delivered.map((d) => d.id)));
    expect(elapsed).toBeLessThan(5_000);

    // The dead endpoint has exactly its share (2) in flight, and nothing of it has ended.
    await waitFor(() => hanging.requests.length === 2);
    expect(server.app.dispatcher!.inFlight).toBe(2);
    const stuck = await listDeliveries(server, account.apiKey, dead.id);
    expect(stuck).toHaveLength(20);
    expect(stuck.every((d) => d.status === 'PENDING' && d.attemptCount === 0)).toBe(true);
    expect(hanging.requests).toHaveLength(2);
  });
});
