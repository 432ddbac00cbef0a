import { ChildServer, createAccountWithCli, useChildServers } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { Receiver } from '../helpers/receiver';
import { storedRows } from '../helpers/stored';
import { waitFor } from '../helpers/wait-for';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

const SECRET = 'crash-secret-0123456789';

/** Delivery rows with their attempt counts, straight from the database. */
function storedDeliveries(databasePath: string): Promise<Array<{ id: string; status: string; attemptCount: number; attempts: number }>> {
  return storedRows(
    databasePath,
    'SELECT d.id, d.status, d."attemptCount", (SELECT count(*) FROM delivery_attempts a WHERE a."deliveryId" = d.id) AS attempts FROM deliveries d',
  );
}

describe('crash safety of the compiled server', () => {
  const rig = useChildServers(SECRET);
  let dir: string;
  let receiver: Receiver;
  beforeEach(() => ({ dir, receiver } = rig));

  function start(databasePath: string, env: Record<string, string> = {}): Promise<ChildServer> {
    return rig.spawn({
      ...databaseEnv(databasePath),
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_DELAYS_MS: '200,400,800',
      // What the killed process held is due again once its leases run out.
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_LEASE_MS: '3000',
      ...env,
    });
  }

  it('loses nothing when killed with SIGKILL mid-flight: a restart on the same database delivers every event', async () => {
    const databasePath = freshDatabase(dir, 'crash');
    const { apiKey } = createAccountWithCli(databasePath);
    // Slow answers keep deliveries in flight; the first three fail, so retries are pending too.
    receiver.reply((request) => (request.index <= 3 ? { status: 500 } : { delayMs: 150 }));
    const first = await start(databasePath);
    const webhook = await createWebhook(first.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    const projects = 20;
    for (let i = 0; i < projects; i += 1) await gqlOk(first.url, CREATE_PROJECT, { input: { name: `Crash ${i}` } }, apiKey);
    await waitFor(() => receiver.requests.length >= 8, { what: 'some deliveries under way' });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const atCrash = await storedDeliveries(databasePath);
    expect(atCrash).toHaveLength(projects);
    expect(atCrash.filter((d) => d.status === 'pending').length).toBeGreaterThan(0);

    const second = await start(databasePath);
    const ended = await waitFor(
      async () => {
        const data = await gqlOk(
          second.url,
          'query ($id: ID!) { deliveries(first: 100, webhookId: $id) { nodes { status event { id } } } }',
          { id: webhook.id },
          apiKey,
        );
        const nodes = data.deliveries.nodes as Array<{ status: string; event: { id: string } }>;
        return nodes.every((node) => node.status === 'SUCCEEDED') && nodes;
      },
      { timeoutMs: 20_000, what: 'every delivery to succeed after the restart' },
    );
    expect(ended).toHaveLength(projects);
    const events = await gqlOk(second.url, '{ events(first: 100) { nodes { id } } }', {}, apiKey);
    const eventIds = new Set(events.events.nodes.map((node: { id: string }) => node.id));
    expect(eventIds.size).toBe(projects);
    expect(new Set(receiver.requests.map((request) => request.body.id))).toEqual(eventIds);
    expect(receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);
  });

  it('on SIGTERM stops taking work, lets the attempt in flight finish and record, and exits 0', async () => {
    const databasePath = freshDatabase(dir, 'term');
    const { apiKey } = createAccountWithCli(databasePath);
    receiver.reply(() => ({ delayMs: 600 }));
    const server = await start(databasePath, { WEBHOOK_ENDPOINT_CONCURRENCY: '1' });
    await createWebhook(server.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    for (const name of ['One', 'Two', 'Three']) await gqlOk(server.url, CREATE_PROJECT, { input: { name } }, apiKey);
    await waitFor(() => receiver.requests.length === 1);
    server.process.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });

    expect(receiver.requests).toHaveLength(1);
    const stored = await storedDeliveries(databasePath);
    const sent = stored.find((d) => d.id === receiver.requests[0].headers['x-deskforge-delivery']);
    expect(sent).toMatchObject({ status: 'succeeded', attemptCount: 1, attempts: 1 });
    expect(stored.filter((d) => d.status === 'pending' && d.attemptCount === 0)).toHaveLength(2);
  });

  it('on SIGTERM cuts off an attempt that outlasts SHUTDOWN_GRACE_MS, still exits 0, and keeps the delivery pending', async () => {
    const databasePath = freshDatabase(dir, 'grace');
    const { apiKey } = createAccountWithCli(databasePath);
    receiver.reply(() => ({ hang: true }));
    const server = await start(databasePath, { SHUTDOWN_GRACE_MS: '300' });
    await createWebhook(server.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    await gqlOk(server.url, CREATE_PROJECT, { input: { name: 'Hanging' } }, apiKey);
    await waitFor(() => receiver.requests.length === 1);
    const signalled = Date.now();
    server.process.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(await storedDeliveries(databasePath)).toEqual([expect.objectContaining({ status: 'pending', attemptCount: 0, attempts: 0 })]);
  });
});
