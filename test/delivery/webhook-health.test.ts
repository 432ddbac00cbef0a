import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { startDeliveryServer, waitForEnded, webhookHealth } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'health-secret-0123456789';

describe('webhook health: 410, auto-disable, reset', () => {
  let server: TestServer;
  let account: TestAccount;
  let receiver: Receiver;

  beforeAll(async () => {
    // No retries, so every failed attempt is a FAILED delivery; two in a row disable.
    server = await startDeliveryServer({ webhook: { retryDelaysMs: [], disableAfterFailures: 2 } });
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    account = await createAccount(server.app);
    receiver = await startReceiver(SECRET);
  });
  afterEach(() => receiver.close());

  const hook = () => createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
  const event = (name: string) => createProject(server.url, account.apiKey, name);
  const enable = (id: string) =>
    gqlOk(server.url, 'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: true }) { id } }', { id }, account.apiKey);

  it('disables the webhook at once on 410 Gone and stops retrying', async () => {
    const retrying = await startDeliveryServer({ webhook: { retryDelaysMs: [50, 50, 50] } });
    try {
      const owner = await createAccount(retrying.app);
      receiver.reply(() => ({ status: 410, body: 'gone' }));
      const webhook = await createWebhook(retrying.url, owner.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
      await createProject(retrying.url, owner.apiKey, 'Gone');
      const [delivery] = await waitForEnded(retrying, owner.apiKey, 1, webhook.id);
      expect(delivery).toMatchObject({ status: 'FAILED', attemptCount: 1 });
      expect(delivery.attempts[0]).toMatchObject({ responseStatus: 410, responseBody: 'gone' });
      expect(await webhookHealth(retrying, owner.apiKey, webhook.id)).toEqual({
        active: false,
        disabledReason: 'The endpoint answered 410 Gone',
        consecutiveFailures: 1,
      });
      await createProject(retrying.url, owner.apiKey, 'After gone');
      expect(await waitForEnded(retrying, owner.apiKey, 1, webhook.id)).toHaveLength(1);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await retrying.stop();
    }
  });

  it('disables after WEBHOOK_DISABLE_AFTER_FAILURES failed deliveries in a row; re-enabling clears reason and count', async () => {
    receiver.reply(() => ({ status: 500 }));
    const webhook = await hook();
    await event('First failure');
    await waitForEnded(server, account.apiKey, 1, webhook.id);
    expect(await webhookHealth(server, account.apiKey, webhook.id)).toEqual({ active: true, disabledReason: null, consecutiveFailures: 1 });
    await event('Second failure');
    await waitForEnded(server, account.apiKey, 2, webhook.id);
    expect(await webhookHealth(server, account.apiKey, webhook.id)).toEqual({
      active: false,
      disabledReason: 'Disabled after 2 deliveries in a row failed',
      consecutiveFailures: 2,
    });

    await enable(webhook.id);
    expect(await webhookHealth(server, account.apiKey, webhook.id)).toEqual({ active: true, disabledReason: null, consecutiveFailures: 0 });
    receiver.reply(() => ({}));
    await event('Back');
    const deliveries = await waitForEnded(server, account.apiKey, 3, webhook.id);
    expect(deliveries[0].status).toBe('SUCCEEDED');
  });

  it('resets the count on a success', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 500 } : {}));
    const webhook = await hook();
    await event('Fails');
    await waitForEnded(server, account.apiKey, 1, webhook.id);
    expect((await webhookHealth(server, account.apiKey, webhook.id)).consecutiveFailures).toBe(1);
    await event('Succeeds');
    await waitForEnded(server, account.apiKey, 2, webhook.id);
    expect(await webhookHealth(server, account.apiKey, webhook.id)).toEqual({ active: true, disabledReason: null, consecutiveFailures: 0 });
  });

  it('fails the queued deliveries of a webhook deactivated meanwhile, without sending them', async () => {
    // Five (the endpoint share) are held in flight until the webhook is inactive; three wait in its lane.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    receiver.reply(() => ({ until: gate }));
    const webhook = await hook();
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']) await event(name);
    await waitFor(() => receiver.requests.length === 5);
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: false }) { id } }',
      { id: webhook.id },
      account.apiKey,
    );
    open();
    const deliveries = await waitForEnded(server, account.apiKey, 8, webhook.id);
    expect(deliveries.filter((d) => d.status === 'SUCCEEDED')).toHaveLength(5);
    const unsent = deliveries.filter((d) => d.status === 'FAILED');
    expect(unsent).toHaveLength(3);
    for (const delivery of unsent) {
      expect(delivery.attempts).toEqual([
        expect.objectContaining({ number: 1, responseStatus: null, durationMs: 0, error: 'not sent: the webhook is inactive' }),
      ]);
    }
    expect(receiver.requests).toHaveLength(5);
    expect((await webhookHealth(server, account.apiKey, webhook.id)).consecutiveFailures).toBe(0);
  });
});
