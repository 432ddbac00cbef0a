import * as pagination from '../../src/db/pagination';
import { Event } from '../../src/events/event.entity';
import { CREATE_WEBHOOK, createProject } from '../helpers/fixtures';
import { gql, gqlOk, TestAccount } from '../helpers/graphql';
import { connectLiveOk, waitForActiveSubscriptions } from '../helpers/live-client';
import { startServerWithAccount, TestServer } from '../helpers/server';

/** Over SQLite's 32,766 bound variables, and still under the 1 MB body limit. */
const LONG = 40_000;
const longList = (...types: string[]) => Array.from({ length: LONG }, (_, i) => types[i % types.length]);

describe('list arguments are folded before they reach the database', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => {
    ({ server, account } = await startServerWithAccount());
    const project = await createProject(server.url, account.apiKey, 'Folded');
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateProject(id: $id, input: { name: "Folded again" }) { id } }',
      { id: project.id },
      account.apiKey,
    );
  });
  afterAll(() => server.stop());

  it('answers events(types:) with 40,000 entries as the two types they name', async () => {
    const listed = jest.spyOn(pagination, 'paginate');
    const response = await gql(
      server.url,
      'query ($t: [EventType!]) { events(types: $t) { totalCount nodes { type } } }',
      { t: longList('PROJECT_UPDATED', 'BUILD_FAILED') },
      account.apiKey,
    );
    const filters = listed.mock.calls.map(([, , where]) => where as { type?: unknown[] });
    listed.mockRestore();
    expect(response.errors).toBeUndefined();
    expect(response.data.events).toEqual({ totalCount: 1, nodes: [{ type: 'PROJECT_UPDATED' }] });
    expect(filters).toEqual([expect.objectContaining({ type: ['project.updated', 'build.failed'] })]);
  });

  it("folds the events subscription's types once, and delivers what they name", async () => {
    const live = await connectLiveOk(server.wsUrl, account.apiKey);
    try {
      const sub = live.subscribe('subscription ($t: [EventType!]) { events(types: $t) { type data { project { name } } } }', {
        t: longList('PROJECT_CREATED'),
      });
      await waitForActiveSubscriptions(server.app, 1);
      await createProject(server.url, account.apiKey, 'Live');
      const [first] = await sub.waitForData(1);
      expect(first).toEqual({ events: { type: 'PROJECT_CREATED', data: { project: { name: 'Live' } } } });
    } finally {
      await live.close();
    }
  });

  it('folds webhook events lists at create and update', async () => {
    const created = await gqlOk(
      server.url,
      CREATE_WEBHOOK,
      { input: { url: 'https://example.com/hook', events: longList('BUILD_FAILED', 'PROJECT_CREATED') } },
      account.apiKey,
    );
    const webhook = created.createWebhook.webhook;
    expect(webhook.events).toEqual(['BUILD_FAILED', 'PROJECT_CREATED']);
    const updated = await gqlOk(
      server.url,
      'mutation ($id: ID!, $e: [EventType!]) { updateWebhook(id: $id, input: { events: $e }) { events } }',
      { id: webhook.id, e: longList('BUILD_QUEUED') },
      account.apiKey,
    );
    expect(updated.updateWebhook.events).toEqual(['BUILD_QUEUED']);
  });

  it('paginate refuses a list filter longer than any folded list, naming the property', async () => {
    const many = Array.from({ length: pagination.MAX_FILTER_VALUES + 1 }, (_, i) => `evt_${i}`);
    await expect(pagination.paginate(server.app.db.reader, Event, { accountId: account.accountId, id: many }, {})).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'id',
    });
    const folded = await pagination.paginate(
      server.app.db.reader,
      Event,
      { accountId: account.accountId, id: many.slice(0, pagination.MAX_FILTER_VALUES) },
      {},
    );
    expect(await folded.totalCount()).toBe(0);
  });
});
