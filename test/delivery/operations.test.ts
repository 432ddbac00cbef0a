import { CommittedEvent } from '../../src/event-bus';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { DELIVERY_FIELDS, DeliveryView, getDelivery, listDeliveries, startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'operations-secret-0123';
const REDELIVER = `mutation ($id: ID!) { redeliver(deliveryId: $id) { ${DELIVERY_FIELDS} } }`;
const TEST_WEBHOOK = `mutation ($id: ID!, $type: EventType) { testWebhook(id: $id, type: $type) { ${DELIVERY_FIELDS} } }`;

describe('redeliver and testWebhook', () => {
  let server: TestServer;
  let account: TestAccount;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startDeliveryServer({ webhook: { retryDelaysMs: [] } });
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    account = await createAccount(server.app);
    receiver = await startReceiver(SECRET);
  });
  afterEach(() => receiver.close());

  const hook = (events = ['PROJECT_CREATED']) => createWebhook(server.url, account.apiKey, { url: receiver.url, events, secret: SECRET });

  async function deliveredOnce(): Promise<{ webhookId: string; delivery: DeliveryView }> {
    const webhook = await hook();
    await createProject(server.url, account.apiKey, 'Redelivered');
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhook.id);
    return { webhookId: webhook.id, delivery };
  }

  it('redeliver makes a new delivery of the same event with the byte-identical body', async () => {
    const { webhookId, delivery } = await deliveredOnce();
    expect(delivery.status).toBe('SUCCEEDED');
    // The new delivery's answer is held until the mutation's own answer is checked: a worker as fast
    // as the response could otherwise store its attempt before the response reads `attempts`.
    let answer!: () => void;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    receiver.reply((request) => (request.index === 2 ? { until: answered } : {}));
    const created = (await gqlOk(server.url, REDELIVER, { id: delivery.id }, account.apiKey)).redeliver as DeliveryView;
    expect(created).toMatchObject({ webhookId, status: 'PENDING', attemptCount: 0, attempts: [], event: { id: delivery.event.id } });
    expect(created.id).not.toBe(delivery.id);
    expect(created.id).toMatch(/^dlv_/);

    await waitFor(() => receiver.requests.length === 2);
    const [first, second] = receiver.requests;
    expect(second.raw.equals(first.raw)).toBe(true);
    expect(second.headers['x-deskforge-delivery']).toBe(created.id);
    expect(second.headers['webhook-id']).toBe(first.headers['webhook-id']);
    expect(second.deskforgeValid && second.standardValid).toBe(true);
    answer();
    const after = await waitFor(async () => {
      const view = await getDelivery(server, account.apiKey, created.id);
      return view?.status === 'SUCCEEDED' && view;
    });
    expect(after.attempts).toHaveLength(1);
    expect(await getDelivery(server, account.apiKey, delivery.id)).toEqual(delivery);
  });

  it('redeliver sends a FAILED delivery again once the endpoint works', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 500 } : {}));
    const { delivery } = await deliveredOnce();
    expect(delivery.status).toBe('FAILED');
    const created = (await gqlOk(server.url, REDELIVER, { id: delivery.id }, account.apiKey)).redeliver;
    await waitFor(async () => (await getDelivery(server, account.apiKey, created.id))?.status === 'SUCCEEDED');
  });

  it("redeliver refuses another account's delivery as NOT_FOUND, and a deleted or inactive webhook as CONFLICT", async () => {
    const { webhookId, delivery } = await deliveredOnce();
    const other = await createAccount(server.app, 'Globex');
    expect(errorOf(await gql(server.url, REDELIVER, { id: delivery.id }, other.apiKey)).code).toBe('NOT_FOUND');
    expect(errorOf(await gql(server.url, REDELIVER, { id: 'dlv_nope' }, account.apiKey)).code).toBe('NOT_FOUND');

    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: false }) { id } }',
      { id: webhookId },
      account.apiKey,
    );
    expect(errorOf(await gql(server.url, REDELIVER, { id: delivery.id }, account.apiKey))).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('inactive'),
    });
    await gqlOk(server.url, 'mutation ($id: ID!) { deleteWebhook(id: $id) { deleted } }', { id: webhookId }, account.apiKey);
    expect(errorOf(await gql(server.url, REDELIVER, { id: delivery.id }, account.apiKey))).toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('deleted'),
    });
    expect(await listDeliveries(server, account.apiKey)).toHaveLength(1);
  });

  it('testWebhook sends a sample of the asked type to that webhook alone, never as a live event', async () => {
    const target = await hook(['PROJECT_CREATED', 'BUILD_SUCCEEDED']);
    const bystander = await startReceiver(SECRET);
    const published: CommittedEvent[] = [];
    const unsubscribe = server.app.bus.subscribe('event', (event) => published.push(event));
    try {
      await createWebhook(server.url, account.apiKey, { url: bystander.url, events: ['BUILD_FAILED', 'PROJECT_CREATED'], secret: SECRET });
      const delivery = (await gqlOk(server.url, TEST_WEBHOOK, { id: target.id, type: 'BUILD_FAILED' }, account.apiKey))
        .testWebhook as DeliveryView;
      expect(delivery).toMatchObject({ webhookId: target.id, status: 'PENDING', event: { type: 'BUILD_FAILED', test: true } });

      const [request] = await waitFor(() => receiver.requests.length === 1 && receiver.requests);
      expect(request.headers['x-deskforge-event']).toBe('build.failed');
      expect(request.headers['webhook-id']).toBe(delivery.event.id);
      expect(request.deskforgeValid && request.standardValid).toBe(true);
      expect(request.body).toEqual({
        id: delivery.event.id,
        type: 'build.failed',
        createdAt: expect.any(String),
        data: {
          build: {
            id: expect.stringMatching(/^build_/),
            projectId: expect.stringMatching(/^proj_/),
            version: '1.0.0',
            platform: 'mac',
            arch: 'arm64',
            status: 'failed',
            artifactUrl: null,
            duration: 840,
            error: expect.any(String),
          },
          project: { id: request.body.data.build.projectId, name: 'My Desktop App' },
        },
      });
      await waitFor(async () => (await getDelivery(server, account.apiKey, delivery.id))?.status === 'SUCCEEDED');

      const events = await gqlOk(server.url, '{ events { totalCount } }', {}, account.apiKey);
      expect(events.events.totalCount).toBe(0);
      const sample = await gqlOk(
        server.url,
        'query ($id: ID!) { event(id: $id) { id test type } }',
        { id: delivery.event.id },
        account.apiKey,
      );
      expect(sample.event).toEqual({ id: delivery.event.id, test: true, type: 'BUILD_FAILED' });
      await server.app.feed.catchUp();
      expect(published).toEqual([]);
      expect(bystander.requests).toHaveLength(0);
    } finally {
      unsubscribe();
      await bystander.close();
    }
  });

  it("testWebhook defaults to the first subscribed type and has each type's shape", async () => {
    const target = await hook(['PROJECT_UPDATED', 'BUILD_QUEUED']);
    await gqlOk(server.url, TEST_WEBHOOK, { id: target.id }, account.apiKey);
    await gqlOk(server.url, TEST_WEBHOOK, { id: target.id, type: 'BUILD_QUEUED' }, account.apiKey);
    await waitFor(() => receiver.requests.length === 2);
    const byType = Object.fromEntries(receiver.requests.map((r) => [r.body.type, r.body]));
    expect(byType['project.updated'].data).toEqual({ project: { id: expect.stringMatching(/^proj_/), name: 'My Desktop App' } });
    expect(byType['build.queued'].data.build).toMatchObject({ status: 'queued', duration: null, artifactUrl: null });
    expect(byType['build.queued'].data.build).not.toHaveProperty('error');
  });

  it("testWebhook refuses another account's webhook as NOT_FOUND and an inactive one as CONFLICT", async () => {
    const target = await hook();
    const other = await createAccount(server.app, 'Globex');
    expect(errorOf(await gql(server.url, TEST_WEBHOOK, { id: target.id }, other.apiKey)).code).toBe('NOT_FOUND');
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { active: false }) { id } }',
      { id: target.id },
      account.apiKey,
    );
    expect(errorOf(await gql(server.url, TEST_WEBHOOK, { id: target.id }, account.apiKey)).code).toBe('CONFLICT');
    expect(receiver.requests).toHaveLength(0);
  });
});
