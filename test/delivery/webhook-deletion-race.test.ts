import { createWebhook } from '../helpers/fixtures';
import { gql } from '../helpers/graphql';
import { useServerWithAccount } from '../helpers/server';
import { commitTogether } from '../helpers/write-group';

const TEST_WEBHOOK = 'mutation ($id: ID!) { testWebhook(id: $id) { id status webhookId webhook { id } event { id test } } }';
const DELETE_WEBHOOK = 'mutation ($id: ID!) { deleteWebhook(id: $id) { id deleted } }';

/** A delivery mutation and `deleteWebhook`, committed in one group: the answer says which came first. */
describe('delivery mutations racing deleteWebhook', () => {
  const ctx = useServerWithAccount();

  const newWebhook = () =>
    createWebhook(ctx.server.url, ctx.account.apiKey, { url: 'https://receiver.example.com/hook', events: ['PROJECT_CREATED'] });

  it.each(['testWebhook', 'deleteWebhook'] as const)(
    'testWebhook and deleteWebhook, %s first: its delivery with webhook null (as once deleted), or NOT_FOUND',
    async (first) => {
      const webhook = await newWebhook();
      const test = () => gql(ctx.server.url, TEST_WEBHOOK, { id: webhook.id }, ctx.account.apiKey);
      const deletion = () => gql(ctx.server.url, DELETE_WEBHOOK, { id: webhook.id }, ctx.account.apiKey);
      const answers = await commitTogether(ctx.server, first === 'testWebhook' ? [test, deletion] : [deletion, test]);
      const [answer, deleted] = first === 'testWebhook' ? answers : [answers[1], answers[0]];
      expect(deleted.errors).toBeUndefined();
      if (first === 'deleteWebhook') {
        expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
        return;
      }
      expect(answer.errors).toBeUndefined();
      expect(answer.data.testWebhook).toMatchObject({ status: 'PENDING', webhookId: webhook.id, webhook: null, event: { test: true } });
    },
  );

  it('redeliver committed first answers its delivery with webhook null; after the deletion, CONFLICT', async () => {
    const webhook = await newWebhook();
    const first = await gql(ctx.server.url, TEST_WEBHOOK, { id: webhook.id }, ctx.account.apiKey);
    const redeliver = () =>
      gql(
        ctx.server.url,
        'mutation ($id: ID!) { redeliver(deliveryId: $id) { id status webhook { id } event { id } } }',
        { id: first.data.testWebhook.id },
        ctx.account.apiKey,
      );
    const [answer, deletion] = await commitTogether(ctx.server, [
      redeliver,
      () => gql(ctx.server.url, DELETE_WEBHOOK, { id: webhook.id }, ctx.account.apiKey),
    ]);
    expect(deletion.errors).toBeUndefined();
    expect(answer.errors).toBeUndefined();
    expect(answer.data.redeliver).toMatchObject({ status: 'PENDING', webhook: null, event: { id: first.data.testWebhook.event.id } });
    const late = await redeliver();
    expect(late.errors?.map((error) => error.extensions?.code)).toEqual(['CONFLICT']);
  });
});
