import { DeliveryAttempt } from '../../src/delivery/delivery-attempt.entity';
import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { Delivery } from '../../src/delivery/delivery.entity';
import { Event } from '../../src/events/event.entity';
import { newId } from '../../src/ids';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, TestAccount } from '../helpers/graphql';
import { connectLiveOk, LiveClient, waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';

const DELIVERY_UPDATED = `subscription ($webhookId: ID) {
  deliveryUpdated(webhookId: $webhookId) {
    id webhookId status attemptCount nextAttemptAt completedAt
    webhook { id url }
    event { id type payload }
    attempts { number responseStatus responseBody durationMs error }
  }
}`;

/**
 * `deliveryUpdated` is fed by the delivery engine's `delivery` messages on the bus. These tests play
 * the engine: they record an attempt the way it does and publish the update. The webhooks subscribe to
 * a type that never happens here, so a real engine (when present) has nothing of its own to send.
 */
describe('subscription deliveryUpdated', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;
  let eventId: string;
  let webhookA: string;
  let webhookB: string;
  const clients: LiveClient[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
    webhookA = (await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/a', events: ['BUILD_FAILED'] })).id;
    webhookB = (await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/b', events: ['BUILD_FAILED'] })).id;
    const project = await createProject(server.url, acme.apiKey, 'Hooked');
    eventId = (await server.app.db.dataSource.getRepository(Event).findOneByOrFail({ projectId: project.id })).id;
  });
  afterAll(async () => {
    await Promise.all(clients.map((live) => live.close()));
    await server.stop();
  });

  /** Stores a delivery after one attempt, as the engine would, and announces it on the bus. */
  async function attempted(webhookId: string, responseStatus: number, account = acme, event = eventId): Promise<string> {
    const id = newId('dlv');
    const now = new Date();
    const status = responseStatus < 300 ? DeliveryStatus.SUCCEEDED : DeliveryStatus.PENDING;
    await server.app.db.writes.write(async ({ manager }) => {
      await manager.insert(Delivery, {
        id,
        accountId: account.accountId,
        webhookId,
        eventId: event,
        status,
        attemptCount: 1,
        nextAttemptAt: status === DeliveryStatus.PENDING ? new Date(now.getTime() + 30_000) : null,
        createdAt: now,
        completedAt: status === DeliveryStatus.SUCCEEDED ? now : null,
      });
      await manager.insert(DeliveryAttempt, {
        id: newId('att'),
        deliveryId: id,
        number: 1,
        startedAt: now,
        durationMs: 12,
        responseStatus,
        responseBody: 'ok',
        error: null,
      });
    });
    server.app.bus.publish('delivery', { id, accountId: account.accountId, webhookId, eventId: event, status });
    return id;
  }

  it("streams each attempt's outcome of the account's deliveries, filtered by webhook", async () => {
    const acmeLive = await connectLiveOk(server.wsUrl, acme.apiKey);
    const globexLive = await connectLiveOk(server.wsUrl, globex.apiKey);
    clients.push(acmeLive, globexLive);
    const all = acmeLive.subscribe(DELIVERY_UPDATED);
    const onlyA = acmeLive.subscribe(DELIVERY_UPDATED, { webhookId: webhookA });
    const otherAccount = globexLive.subscribe(DELIVERY_UPDATED);
    const pryingOnA = globexLive.subscribe(DELIVERY_UPDATED, { webhookId: webhookA });
    await waitForActiveSubscriptions(server.app, 4);

    const first = await attempted(webhookA, 200);
    const second = await attempted(webhookB, 503);
    const third = await attempted(webhookA, 500);

    const updates = (await all.waitForData(3)).map((data) => data.deliveryUpdated);
    expect(updates.map((update) => [update.id, update.webhookId, update.status])).toEqual([
      [first, webhookA, 'SUCCEEDED'],
      [second, webhookB, 'PENDING'],
      [third, webhookA, 'PENDING'],
    ]);
    expect(updates[0]).toMatchObject({
      attemptCount: 1,
      nextAttemptAt: null,
      completedAt: expect.any(String),
      webhook: { id: webhookA, url: 'http://127.0.0.1:9/a' },
      event: { id: eventId, type: 'PROJECT_CREATED', payload: expect.objectContaining({ id: eventId, type: 'project.created' }) },
      attempts: [{ number: 1, responseStatus: 200, responseBody: 'ok', durationMs: 12, error: null }],
    });
    expect(updates[1].nextAttemptAt).toEqual(expect.any(String));

    await onlyA.waitForData(2);
    expect(onlyA.data.map((data) => data.deliveryUpdated.id)).toEqual([first, third]);

    // Globex hears nothing: a marker of its own proves its subscriptions were live all along.
    const globexProject = await createProject(server.url, globex.apiKey, 'Globex');
    const globexWebhook = (await createWebhook(server.url, globex.apiKey, { url: 'http://127.0.0.1:9/g', events: ['BUILD_FAILED'] })).id;
    const globexEvent = (await server.app.db.dataSource.getRepository(Event).findOneByOrFail({ projectId: globexProject.id })).id;
    const marker = await attempted(globexWebhook, 200, globex, globexEvent);
    await otherAccount.waitForData(1);
    expect(otherAccount.data.map((data) => data.deliveryUpdated.id)).toEqual([marker]);
    // …and Acme only its own: a last marker of Acme's follows directly after the three.
    const last = await attempted(webhookB, 200);
    await all.waitForData(4);
    expect(all.data.map((data) => data.deliveryUpdated.id)).toEqual([first, second, third, last]);
    expect(pryingOnA.data).toEqual([]);
  });
});
