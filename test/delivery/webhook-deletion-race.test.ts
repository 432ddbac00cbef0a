import { createWebhook } from '../helpers/fixtures';
import { createAccount, gql, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { commitTogether } from '../helpers/write-group';

const TEST_WEBHOOK = 'mutation ($id: ID!) { testWebhook(id: $id) { id status webhookId webhook { id } event { id test } } }';
const DELETE_WEBHOOK = 'mutation ($id: ID!) { deleteWebhook(id: $id) { id deleted } }';

/** A delivery mutation and `deleteWebhook`, committed in one group: the answer says which came first. */
describe('delivery mutations racing deleteWebhook', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
  });
  afterAll(() => server.stop());

  const newWebhook = () => createWebhook(server.url, account.apiKey, { url: 'https://receiver.example.com/hook', events: ['PROJECT_CREATED'] });

  it('testWebhook committed first answers its delivery, with webhook null as the schema says once deleted', async () => {
    const webhook = await newWebhook();
    const [answer, deletion] = await commitTogether(server, [
      () => gql(server.url, TEST_WEBHOOK, { id: webhook.id }, account.apiKey),
      () => gql(server.url, DELETE_WEBHOOK, { id: webhook.id }, account.apiKey),
    ]);
    expect(deletion.errors).toBeUndefined();
    expect(answer.errors).toBeUndefined();
    expect(answer.data.testWebhook).toMatchObject({ status: 'PENDING', webhookId: webhook.id, webhook: null, event: { test: true } });
  });

  it('testWebhook after the deletion is NOT_FOUND', async () => {
    const webhook = await newWebhook();
    const [deletion, answer] = await commitTogether(server, [
      () => gql(server.url, DELETE_WEBHOOK, { id: webhook.id }, account.apiKey),
      () => gql(server.url, TEST_WEBHOOK, { id: webhook.id }, account.apiKey),
    ]);
    expect(deletion.errors).toBeUndefined();
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
  });

  it('redeliver committed first answers its delivery with webhook null; after the deletion, CONFLICT', async () => {
    const webhook = await newWebhook();
    const first = await gql(server.url, TEST_WEBHOOK, { id: webhook.id }, account.apiKey);
    const redeliver = () =>
      gql(server.url, 'mutation ($id: ID!) { redeliver(deliveryId: $id) { id status webhook { id } event { id } } }', { id: first.data.testWebhook.id }, account.apiKey);
    const [answer, deletion] = await commitTogether(server, [redeliver, () => gql(server.url, DELETE_WEBHOOK, { id: webhook.id }, account.apiKey)]);
    expect(deletion.errors).toBeUndefined();
    expect(answer.errors).toBeUndefined();
    expect(answer.data.redeliver).toMatchObject({ status: 'PENDING', webhook: null, event: { id: first.data.testWebhook.event.id } });
    const late = await redeliver();
    expect(late.errors?.map((error) => error.extensions?.code)).toEqual(['CONFLICT']);
  });
});
