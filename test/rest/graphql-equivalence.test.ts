import { EventType } from '../../src/events/event-type';
import { startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { CREATE_WEBHOOK, createProject, createWebhook, runBuild } from '../helpers/fixtures';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { startReceiver } from '../helpers/receiver';
import { rest } from '../helpers/rest';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const WEBHOOK_FIELDS = 'id url events active description disabledReason consecutiveFailures createdAt updatedAt';

/** GraphQL's `BUILD_SUCCEEDED` for the dotted `build.succeeded`. */
const graphqlName = (dotted: string) => Object.entries(EventType).find(([, value]) => value === dotted)![0];

/** A REST webhook as GraphQL shows the same one: event names as the enum's keys, every other field as it is. */
const asGraphQL = (webhook: { events: string[] }) => ({ ...webhook, events: webhook.events.map(graphqlName) });

describe('REST and GraphQL are two doors to the same webhooks', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
  });
  afterAll(() => server.stop());

  const graphqlWebhook = async (id: string) =>
    (await gqlOk(server.url, `query ($id: ID!) { webhook(id: $id) { ${WEBHOOK_FIELDS} } }`, { id }, account.apiKey)).webhook;
  const restGet = (id: string) => rest(server.origin, 'GET', `/webhooks/${id}`, { key: account.apiKey });

  it('a webhook made through REST is the same in GraphQL, field for field', async () => {
    const created = await rest(server.origin, 'POST', '/webhooks', {
      key: account.apiKey,
      body: {
        url: 'https://your-app.com/webhooks/deskforge',
        events: ['build.succeeded', 'project.deleted'],
        description: 'from REST',
        active: false,
      },
    });
    expect(created.status).toBe(201);
    const { secret: _secret, ...shown } = created.body;
    expect(await graphqlWebhook(created.body.id)).toEqual(asGraphQL(shown));
  });

  it('a webhook made through GraphQL is the same in REST, and in its list', async () => {
    const { id } = await createWebhook(server.url, account.apiKey, {
      url: 'https://your-app.com/webhooks/deskforge',
      events: ['BUILD_FAILED', 'PROJECT_CREATED'],
      description: 'from GraphQL',
    });
    const shown = await restGet(id);
    expect(shown.status).toBe(200);
    expect(asGraphQL(shown.body)).toEqual(await graphqlWebhook(id));
    expect(shown.body.events).toEqual(['build.failed', 'project.created']);

    const listed = await rest(server.origin, 'GET', '/webhooks', { key: account.apiKey });
    const page = await gqlOk(server.url, `{ webhooks(first: 100) { totalCount nodes { ${WEBHOOK_FIELDS} } } }`, {}, account.apiKey);
    expect(listed.body.total).toBe(page.webhooks.totalCount);
    expect(listed.body.webhooks.map(asGraphQL)).toEqual(page.webhooks.nodes);
  });

  it('a change through GraphQL shows in REST at once', async () => {
    const { id } = await createWebhook(server.url, account.apiKey, { url: 'https://your-app.com/a', events: ['BUILD_FAILED'] });
    await gqlOk(
      server.url,
      'mutation ($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { id } }',
      { id, input: { url: 'https://your-app.com/b', active: false } },
      account.apiKey,
    );
    expect((await restGet(id)).body).toMatchObject({ url: 'https://your-app.com/b', active: false });
  });

  it('a deletion through either door is a deletion for both, with the same answer', async () => {
    const viaRest = (
      await rest(server.origin, 'POST', '/webhooks', {
        key: account.apiKey,
        body: { url: 'https://your-app.com/r', events: ['build.failed'] },
      })
    ).body.id;
    const viaGraphQL = (await createWebhook(server.url, account.apiKey, { url: 'https://your-app.com/g', events: ['BUILD_FAILED'] })).id;
    const deleteMutation = 'mutation ($id: ID!) { deleteWebhook(id: $id) { id deleted message } }';

    const restAnswer = await rest(server.origin, 'DELETE', `/webhooks/${viaRest}`, { key: account.apiKey });
    expect(await graphqlWebhook(viaRest)).toBeNull();
    expect(errorOf(await gql(server.url, deleteMutation, { id: viaRest }, account.apiKey)).code).toBe('NOT_FOUND');

    const graphqlAnswer = await gqlOk(server.url, deleteMutation, { id: viaGraphQL }, account.apiKey);
    expect((await restGet(viaGraphQL)).status).toBe(404);
    expect((await rest(server.origin, 'DELETE', `/webhooks/${viaGraphQL}`, { key: account.apiKey })).status).toBe(404);

    expect(restAnswer.body).toEqual({ ...graphqlAnswer.deleteWebhook, id: viaRest });
  });

  it.each([
    ['an unusable URL', { url: 'ftp://your-app.com/hook' }],
    ['no events', { events: [] }],
    ['a short secret', { secret: 'short' }],
    ['a long description', { description: 'd'.repeat(1001) }],
  ])('refuses %s with the same code, field and message as GraphQL', async (_name, change) => {
    const input = { url: 'https://your-app.com/hook', ...change };
    const restAnswer = await rest(server.origin, 'POST', '/webhooks', {
      key: account.apiKey,
      body: { events: ['build.failed'], ...input },
    });
    const graphqlAnswer = await gql(server.url, CREATE_WEBHOOK, { input: { events: ['BUILD_FAILED'], ...input } }, account.apiKey);
    expect(restAnswer.status).toBe(400);
    expect(restAnswer.body.error).toEqual(errorOf(graphqlAnswer));
  });

  it('one API key opens both doors, and an unknown one neither', async () => {
    expect((await rest(server.origin, 'GET', '/webhooks', { key: account.apiKey })).status).toBe(200);
    const unknown = `dfk_${'u'.repeat(43)}`;
    const graphqlAnswer = await gql(server.url, '{ viewer { id } }', {}, unknown);
    const restAnswer = await rest(server.origin, 'GET', '/webhooks', { key: unknown });
    expect([graphqlAnswer.status, errorOf(graphqlAnswer).code]).toEqual([401, 'UNAUTHENTICATED']);
    expect([restAnswer.status, restAnswer.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
  });
});

describe('a webhook made through REST gets the same events', () => {
  it('receives a build made through GraphQL, signed with the secret sent to REST', async () => {
    const receiver = await startReceiver('your_webhook_secret');
    const server = await startDeliveryServer();
    try {
      const account = await createAccount(server.app);
      const created = await rest(server.origin, 'POST', '/webhooks', {
        key: account.apiKey,
        body: { url: receiver.url, events: ['build.succeeded', 'build.failed'], secret: 'your_webhook_secret' },
      });
      expect(created.status).toBe(201);
      const project = await createProject(server.url, account.apiKey);
      const buildId = await runBuild(server.url, account.apiKey, project.id);
      const [delivery] = await waitForEnded(server, account.apiKey, 1, created.body.id);
      expect(delivery.status).toBe('SUCCEEDED');
      const request = await waitFor(() => receiver.requests[0], { what: 'the delivery at the receiver' });
      expect(request.headers['x-deskforge-event']).toBe('build.succeeded');
      expect(request.body).toMatchObject({ type: 'build.succeeded', data: { build: { id: buildId }, project: { id: project.id } } });
      expect(request.deskforgeValid).toBe(true);
      expect(request.standardValid).toBe(true);
    } finally {
      await server.stop();
      await receiver.close();
    }
  });
});
