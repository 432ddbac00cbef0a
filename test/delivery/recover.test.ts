import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { RECOVERY_CHUNK } from '../../src/delivery/deliveries.service';
import { DeliveryUpdate } from '../../src/event-bus';
import { ShiftedClock } from '../helpers/clock';
import { DELIVERY_FIELDS, DeliveryView, listDeliveries, startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { DeliveryHistory, HistoryDelivery } from '../helpers/delivery-history';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { Receiver, ReceivedRequest, startReceiver } from '../helpers/receiver';
import { startTestServer, TestServer } from '../helpers/server';
import { sql } from '../helpers/test-database';

const SECRET = 'recover-secret-0123456';
const HOUR = 60 * 60 * 1000;
const RECOVER = `mutation ($webhookId: ID!, $since: DateTime!) { recoverFailedDeliveries(webhookId: $webhookId, since: $since) { count } }`;
const REDELIVER = `mutation ($id: ID!) { redeliver(deliveryId: $id) { ${DELIVERY_FIELDS} } }`;
const STATS = `query ($id: ID!, $since: DateTime) { webhook(id: $id) { stats(since: $since) { succeeded failed pending successRate attempts attemptDurationP50Ms attemptDurationP95Ms } } }`;

describe('recoverFailedDeliveries after an outage', () => {
  const clock = new ShiftedClock();
  let server: TestServer;
  let account: TestAccount;
  let receiver: Receiver;
  /** While true the receiver answers 500: the outage. */
  let down: boolean;

  beforeAll(async () => {
    // One retry 20 ms later: a delivery made during the outage ends FAILED after two attempts.
    server = await startDeliveryServer({ webhook: { retryDelaysMs: [20] } }, { clock });
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    clock.offsetMs = 0;
    account = await createAccount(server.app);
    receiver = await startReceiver(SECRET);
    down = false;
    receiver.reply(() => (down ? { status: 500, body: 'down for maintenance' } : {}));
  });
  afterEach(() => receiver.close());

  const hook = () =>
    createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED', 'PROJECT_UPDATED'], secret: SECRET });
  const recover = (webhookId: string, since: Date, key = account.apiKey) =>
    gql(server.url, RECOVER, { webhookId, since: since.toISOString() }, key);
  const recovered = async (webhookId: string, since: Date) =>
    (await gqlOk(server.url, RECOVER, { webhookId, since: since.toISOString() }, account.apiKey)).recoverFailedDeliveries.count;
  const byEvent = (requests: ReceivedRequest[]) => {
    const groups = new Map<string, ReceivedRequest[]>();
    for (const request of requests) {
      const eventId = request.headers['webhook-id'] as string;
      groups.set(eventId, [...(groups.get(eventId) ?? []), request]);
    }
    return groups;
  };

  it('sends every failed event once more, byte for byte, and a second call right after makes none', async () => {
    const webhook = await hook();
    const project = await createProject(server.url, account.apiKey, 'Before the outage');
    await waitForEnded(server, account.apiKey, 1, webhook.id);

    const outageStart = clock.now();
    down = true;
    for (const name of ['During 1', 'During 2', 'During 3']) await createProject(server.url, account.apiKey, name);
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateProject(id: $id, input: { name: "Renamed" }) { id } }',
      { id: project.id },
      account.apiKey,
    );
    const [failedOnce] = (await waitForEnded(server, account.apiKey, 5, webhook.id)).filter((delivery) => delivery.status === 'FAILED');
    // Redelivered by hand during the outage, and failed again: still one event to recover.
    const again = (await gqlOk(server.url, REDELIVER, { id: failedOnce.id }, account.apiKey)).redeliver as DeliveryView;
    const beforeRecovery = await waitForEnded(server, account.apiKey, 6, webhook.id);
    expect(beforeRecovery.map((delivery) => delivery.status).sort()).toEqual([
      'FAILED',
      'FAILED',
      'FAILED',
      'FAILED',
      'FAILED',
      'SUCCEEDED',
    ]);
    expect(beforeRecovery.find((delivery) => delivery.id === again.id)?.status).toBe('FAILED');
    const failedEvents = new Set(beforeRecovery.filter((delivery) => delivery.status === 'FAILED').map((delivery) => delivery.event.id));
    expect(failedEvents.size).toBe(4);

    down = false;
    const sentBefore = receiver.requests.length;
    expect(await recovered(webhook.id, outageStart)).toBe(4);
    expect(await recovered(webhook.id, outageStart)).toBe(0);

    const all = await waitForEnded(server, account.apiKey, 10, webhook.id);
    const recoveries = all.filter((delivery) => !beforeRecovery.some((before) => before.id === delivery.id));
    expect(recoveries).toHaveLength(4);
    expect(recoveries.every((delivery) => delivery.status === 'SUCCEEDED' && delivery.attempts.length === 1)).toBe(true);
    expect(new Set(recoveries.map((delivery) => delivery.event.id))).toEqual(failedEvents);

    const afterRecovery = byEvent(receiver.requests.slice(sentBefore));
    expect(new Set(afterRecovery.keys())).toEqual(failedEvents);
    const everything = byEvent(receiver.requests);
    for (const [eventId, [request, ...more]] of afterRecovery) {
      expect(more).toHaveLength(0);
      expect(request.raw.equals(everything.get(eventId)![0].raw)).toBe(true);
      expect(request.deskforgeValid && request.standardValid).toBe(true);
      expect(recoveries.map((delivery) => delivery.id)).toContain(request.headers['x-deskforge-delivery']);
    }
    expect(await recovered(webhook.id, outageStart)).toBe(0);

    const stats = (
      await gqlOk(server.url, STATS, { id: webhook.id, since: new Date(outageStart.getTime() - HOUR).toISOString() }, account.apiKey)
    ).webhook.stats;
    // 1 before the outage and 4 recoveries succeeded; 4 deliveries and 1 redelivery failed after 2 attempts each.
    expect(stats).toMatchObject({ succeeded: 5, failed: 5, pending: 0, successRate: 0.5, attempts: 1 + 5 * 2 + 4 });
    expect(stats.attemptDurationP50Ms).toBeLessThanOrEqual(stats.attemptDurationP95Ms);
  });

  it('only recovers deliveries created at or after `since`', async () => {
    const webhook = await hook();
    down = true;
    clock.offsetMs = -3 * HOUR;
    await createProject(server.url, account.apiKey, 'Three hours ago');
    await waitForEnded(server, account.apiKey, 1, webhook.id);
    clock.offsetMs = 0;
    await createProject(server.url, account.apiKey, 'Just now, 1');
    await createProject(server.url, account.apiKey, 'Just now, 2');
    await waitForEnded(server, account.apiKey, 3, webhook.id);
    down = false;

    expect(await recovered(webhook.id, new Date(Date.now() - HOUR))).toBe(2);
    await waitForEnded(server, account.apiKey, 5, webhook.id);
    expect(await recovered(webhook.id, new Date(Date.now() - 4 * HOUR))).toBe(1);
    const deliveries = await waitForEnded(server, account.apiKey, 6, webhook.id);
    expect(deliveries.filter((delivery) => delivery.status === 'SUCCEEDED')).toHaveLength(3);
    expect(await recovered(webhook.id, new Date(Date.now() - 4 * HOUR))).toBe(0);
  });

  it("refuses an inactive webhook as CONFLICT and another account's or an unknown one as NOT_FOUND", async () => {
    const webhook = await hook();
    down = true;
    await createProject(server.url, account.apiKey, 'Failed');
    await waitForEnded(server, account.apiKey, 1, webhook.id);
    const since = new Date(Date.now() - HOUR);

    const other = await createAccount(server.app, 'Globex');
    expect(errorOf(await recover(webhook.id, since, other.apiKey)).code).toBe('NOT_FOUND');
    expect(errorOf(await recover('wh_nope', since)).code).toBe('NOT_FOUND');
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: false }) { id } }',
      { id: webhook.id },
      account.apiKey,
    );
    expect(errorOf(await recover(webhook.id, since))).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('inactive') });
    expect(await listDeliveries(server, account.apiKey, webhook.id)).toHaveLength(1);

    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: true }) { id } }',
      { id: webhook.id },
      account.apiKey,
    );
    down = false;
    expect(await recovered(webhook.id, since)).toBe(1);
    await waitForEnded(server, account.apiKey, 2, webhook.id);
  });
});

/**
 * Many failures, stored directly (no engine): the walk goes through several chunks and must make
 * exactly one delivery per event that qualifies, announce each one, and none on a second call.
 */
describe('recoverFailedDeliveries over many failures', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('makes one delivery per qualifying event, in chunks, and announces each', async () => {
    const account = await createAccount(server.app);
    const hook = (url: string) => createWebhook(server.url, account.apiKey, { url, events: ['PROJECT_CREATED'] });
    const { id: webhookId } = await hook('http://127.0.0.1:9/many');
    const { id: otherWebhookId } = await hook('http://127.0.0.1:9/other');
    const since = new Date(Date.now() - 10 * HOUR);
    const at = (hoursAfterSince: number, i: number) => new Date(since.getTime() + hoursAfterSince * HOUR + i);

    const history = new DeliveryHistory(server, account.accountId);
    const count = 3 * RECOVERY_CHUNK;
    const events = await history.events(count, at(-2, 0));
    const rows: HistoryDelivery[] = [];
    const expected = new Set<string>();
    events.forEach((eventId, i) => {
      const delivery = (status: DeliveryStatus, createdAt: Date, target = webhookId) =>
        rows.push({ eventId, webhookId: target, status, createdAt });
      // Hundreds of failures share each millisecond, so chunks end inside such groups.
      const failedAt = i % 13 === 0 ? at(-1, i) : at(1, Math.floor(i / 300));
      delivery(DeliveryStatus.FAILED, failedAt);
      delivery(DeliveryStatus.FAILED, at(2, i), otherWebhookId);
      if (i % 5 === 0) delivery(DeliveryStatus.FAILED, at(3, i)); // redelivered and failed again: still one
      if (i % 7 === 0) delivery(DeliveryStatus.SUCCEEDED, at(4, i)); // already made it
      if (i % 11 === 0) delivery(DeliveryStatus.PENDING, at(-3, i)); // still being tried
      const latestFailed = i % 5 === 0 || i % 13 !== 0;
      if (latestFailed && i % 7 !== 0 && i % 11 !== 0) expected.add(eventId);
    });
    const stored = new Set(await history.deliveries(rows));

    const announced: DeliveryUpdate[] = [];
    const unsubscribe = server.app.bus.subscribe('delivery', (update) => announced.push(update));
    try {
      const { data } = await gql(server.url, RECOVER, { webhookId, since: since.toISOString() }, account.apiKey);
      expect(data.recoverFailedDeliveries.count).toBe(expected.size);
      expect(expected.size).toBeGreaterThan(2 * RECOVERY_CHUNK);

      const all: Array<{ id: string; eventId: string; status: string }> = await sql(
        server.app.db.reader,
        `SELECT "id", "eventId", "status" FROM "deliveries" WHERE "webhookId" = ?`,
        [webhookId],
      );
      const fresh = all.filter((row) => !stored.has(row.id));
      expect(fresh.every((row) => row.status === DeliveryStatus.PENDING)).toBe(true);
      expect(fresh).toHaveLength(expected.size);
      expect(new Set(fresh.map((row) => row.eventId))).toEqual(expected);
      // Announced through the feed, which reads a page at a time: all of it once the reader caught up.
      await server.app.feed.catchUp();
      expect(announced).toHaveLength(expected.size);
      expect(new Set(announced.map((update) => update.id))).toEqual(new Set(fresh.map((row) => row.id)));
      expect(announced.every((update) => update.status === DeliveryStatus.PENDING && update.webhookId === webhookId)).toBe(true);

      const second = await gql(server.url, RECOVER, { webhookId, since: since.toISOString() }, account.apiKey);
      expect(second.data.recoverFailedDeliveries.count).toBe(0);
      const untouched = await sql(server.app.db.reader, `SELECT COUNT(*) AS "n" FROM "deliveries" WHERE "webhookId" = ?`, [otherWebhookId]);
      expect(untouched[0].n).toBe(count);
    } finally {
      unsubscribe();
    }
  });
});
