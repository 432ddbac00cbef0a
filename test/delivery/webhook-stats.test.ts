import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { ManualClock } from '../helpers/clock';
import { DeliveryHistory, HistoryDelivery } from '../helpers/delivery-history';
import { createWebhook } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

const STATS = `query ($id: ID!, $since: DateTime) {
  webhook(id: $id) { stats(since: $since) { since succeeded failed pending successRate attempts attemptDurationP50Ms attemptDurationP95Ms } }
}`;

const HOUR = 60 * 60 * 1000;
const { SUCCEEDED, FAILED, PENDING } = DeliveryStatus;

/**
 * `Webhook.stats` on a stored history made to measure: every delivery, attempt and time is known, so
 * every number is checked exactly. The clock is fixed, so "the last 24 hours" is known too.
 */
describe('Webhook.stats', () => {
  const clock = new ManualClock();
  const now = clock.now().getTime();
  const ago = (hours: number, plusMs = 0) => new Date(now - hours * HOUR + plusMs);
  let server: TestServer;
  let account: TestAccount;
  let webhookId: string;
  let emptyWebhookId: string;

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    account = await createAccount(server.app);
    const hook = (url: string) => createWebhook(server.url, account.apiKey, { url, events: ['PROJECT_CREATED'] });
    webhookId = (await hook('http://127.0.0.1:9/stats')).id;
    const otherWebhookId = (await hook('http://127.0.0.1:9/other')).id;
    emptyWebhookId = (await hook('http://127.0.0.1:9/empty')).id;

    const history = new DeliveryHistory(server, account.accountId);
    const events = await history.events(30, ago(48));
    let next = 0;
    const to = (
      target: string,
      status: DeliveryStatus,
      createdAt: Date,
      attempts: Array<[Date, number]> = [],
      completedAt?: Date | null,
    ): HistoryDelivery => ({
      eventId: events[next++],
      webhookId: target,
      status,
      createdAt,
      completedAt,
      attempts: attempts.map(([startedAt, durationMs]) => ({ startedAt, durationMs })),
    });
    const at = (hours: number) => ago(hours, 1000);
    await history.deliveries([
      // Created in the last 24 hours: 6 succeeded, 3 failed, 2 pending; 17 attempts of 10 … 170 ms.
      ...[10, 20, 30, 40, 50, 60].map((ms, i) => to(webhookId, SUCCEEDED, ago(20 - i), [[at(20 - i), ms]])),
      ...[
        [70, 80, 90],
        [100, 110, 120],
        [130, 140, 150],
      ].map((durations, i) =>
        to(
          webhookId,
          FAILED,
          ago(10 - i),
          durations.map((ms, n): [Date, number] => [at(10 - i - n * 0.1), ms]),
        ),
      ),
      to(webhookId, PENDING, ago(3), [
        [at(3), 160],
        [at(2.9), 170],
      ]),
      to(webhookId, PENDING, ago(1), [[at(1), 200]]),
      // Created before the window, still pending: its retry within the window counts (180), its first attempt does not.
      to(webhookId, PENDING, ago(25), [
        [at(25), 5000],
        [at(23), 180],
      ]),
      // Created before the window and retried into it until it succeeded 2 hours ago: 190 counts, 9000 does not.
      to(webhookId, SUCCEEDED, ago(26), [
        [at(26), 9000],
        [at(2), 190],
      ]),
      // Created more than a day (ATTEMPT_LOOKBACK_MS) before either window: its late attempt is not looked for.
      to(webhookId, PENDING, ago(80), [
        [at(80), 7777],
        [at(1), 7777],
      ]),
      // Over well before the window: nothing of these counts by default.
      ...Array.from({ length: 4 }, () => to(webhookId, SUCCEEDED, ago(30), [[at(30), 9999]], ago(29))),
      ...Array.from({ length: 5 }, () => to(webhookId, FAILED, ago(30), [[at(30), 9999]], ago(29))),
      // Another webhook of the account, in the window: never mixed in.
      to(otherWebhookId, SUCCEEDED, ago(1), [[at(1), 1]]),
      to(otherWebhookId, FAILED, ago(1), [[at(1), 1]]),
    ]);
  });
  afterAll(() => server.stop());

  const statsOf = async (id: string, since?: string) => (await gqlOk(server.url, STATS, { id, since }, account.apiKey)).webhook.stats;

  it('counts the last 24 hours by default: deliveries created since then by status, attempts made since then', async () => {
    expect(await statsOf(webhookId)).toEqual({
      since: ago(24).toISOString(),
      succeeded: 6,
      failed: 3,
      pending: 2,
      successRate: 6 / 9,
      // 10, 20, …, 200: the median is the 10th of 20, the 95th percentile the 19th.
      attempts: 20,
      attemptDurationP50Ms: 100,
      attemptDurationP95Ms: 190,
    });
  });

  it('takes any `since`, inclusive', async () => {
    expect(await statsOf(webhookId, ago(48).toISOString())).toEqual({
      since: ago(48).toISOString(),
      succeeded: 6 + 1 + 4,
      failed: 3 + 5,
      pending: 2 + 1,
      successRate: 11 / 19,
      // 10 … 200, then 5000, 9000 and nine times 9999: the 16th and the 30th of 31.
      attempts: 31,
      attemptDurationP50Ms: 160,
      attemptDurationP95Ms: 9999,
    });
    // Exactly at a delivery's creation, then exactly at its attempt's start, then just after.
    expect(await statsOf(webhookId, ago(1).toISOString())).toMatchObject({
      pending: 1,
      succeeded: 0,
      failed: 0,
      attempts: 1,
      attemptDurationP50Ms: 200,
    });
    expect(await statsOf(webhookId, ago(1, 1000).toISOString())).toMatchObject({ pending: 0, attempts: 1, attemptDurationP95Ms: 200 });
    expect(await statsOf(webhookId, ago(1, 1001).toISOString())).toMatchObject({ pending: 0, attempts: 0, attemptDurationP50Ms: null });
  });

  it('is all zeros and nulls for a webhook with nothing in the window', async () => {
    expect(await statsOf(emptyWebhookId)).toEqual({
      since: ago(24).toISOString(),
      succeeded: 0,
      failed: 0,
      pending: 0,
      successRate: null,
      attempts: 0,
      attemptDurationP50Ms: null,
      attemptDurationP95Ms: null,
    });
    expect(await statsOf(webhookId, new Date(now + HOUR).toISOString())).toMatchObject({
      succeeded: 0,
      pending: 0,
      successRate: null,
      attempts: 0,
    });
  });

  it("shows nothing of another account's webhook", async () => {
    const other = await createAccount(server.app, 'Globex');
    const data = await gqlOk(server.url, STATS, { id: webhookId }, other.apiKey);
    expect(data.webhook).toBeNull();
  });
});
