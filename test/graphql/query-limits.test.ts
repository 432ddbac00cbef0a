import { getIntrospectionQuery, GraphQLSchema, parse } from 'graphql';
import { createSchema } from '../../src/graphql/schema';
import { operationCost } from '../../src/graphql/query-limits';
import { gql, TestAccount } from '../helpers/graphql';
import { connectLiveOk, LiveClient, waitForActiveSubscriptions } from '../helpers/live-client';
import { startServerWithAccount, TestServer } from '../helpers/server';

/** `levels` nested `project { builds(<args>) { nodes { … } } }` under `build`, as the attack probe had them. */
function buildsCycle(levels: number, args = ''): string {
  const open = `project { builds${args} { nodes { `.repeat(levels);
  const close = ' } } }'.repeat(levels);
  return `build(id: "build_none") { ${open}id${close} }`;
}

/** `levels` nested `webhook { deliveries(<args>) { nodes { … } } }` under a delivery. */
function deliveriesCycle(levels: number, args = ''): string {
  const open = `webhook { deliveries${args} { nodes { `.repeat(levels);
  const close = ' } } }'.repeat(levels);
  return `${open}id${close}`;
}

const REFUSED = {
  status: 400,
  errors: [expect.objectContaining({ message: expect.stringMatching(/cost/i), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })],
};

describe('the query cost limit', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => ({ server, account } = await startServerWithAccount()));
  afterAll(() => server.stop());

  const run = (query: string, variables: Record<string, unknown> = {}) => gql(server.url, query, variables, account.apiKey);

  it('refuses the attack probe (four levels of builds at the default page size: 20^4 nodes) before it runs', async () => {
    const executed = jest.spyOn(server.app.services.builds, 'get');
    const response = await run(`{ ${buildsCycle(4)} }`);
    expect(response).toMatchObject(REFUSED);
    expect(executed).not.toHaveBeenCalled();
    executed.mockRestore();
  });

  it("counts `first` from variables, and from a variable's default", async () => {
    const query = `query ($n: Int) { ${buildsCycle(3, '(first: $n)')} }`;
    expect(await run(query, { n: 40 })).toMatchObject(REFUSED);
    expect(await run(`query ($n: Int = 40) { ${buildsCycle(3, '(first: $n)')} }`)).toMatchObject(REFUSED);
    // The same document with small pages runs.
    const small = await run(query, { n: 5 });
    expect(small.errors).toBeUndefined();
    expect(small.data).toEqual({ build: null });
  });

  it('sees through fragments and the Webhook.deliveries ↔ Delivery.webhook cycle', async () => {
    const query = `
      query { deliveries { nodes { ...Hop } } }
      fragment Hop on Delivery { webhook { ... on Webhook { deliveries { nodes { ${deliveriesCycle(2)} } } } } }`;
    expect(await run(query)).toMatchObject(REFUSED);
  });

  it("still runs ordinary queries and GraphiQL's introspection", async () => {
    const twoLevels = await run(`query ($n: Int) { ${buildsCycle(2, '(first: $n)')} }`, { n: 40 });
    expect(twoLevels.errors).toBeUndefined();
    const introspection = await gql(server.url, getIntrospectionQuery());
    expect(introspection.errors).toBeUndefined();
    expect(introspection.data.__schema.queryType.name).toBe('Query');
  });

  it('a page size the list refuses anyway costs at most the largest page', async () => {
    const response = await run('{ webhooks(first: 100000) { nodes { id } } }');
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
  });

  describe('over WebSocket', () => {
    let live: LiveClient;
    beforeAll(async () => {
      live = await connectLiveOk(server.wsUrl, account.apiKey);
    });
    afterAll(() => live.close());

    const refusedLive = [
      expect.objectContaining({ message: expect.stringMatching(/cost/i), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ];

    it('refuses a subscription whose variables make it too costly, and accepts the same one with small pages', async () => {
      const query = `subscription ($n: Int) { deliveryUpdated { ${deliveriesCycle(3, '(first: $n)')} } }`;
      const costly = live.subscribe(query, { n: 40 });
      await costly.waitForEnd();
      expect(costly.error).toEqual(refusedLive);
      // A cached document is checked again with each operation's variables.
      const small = live.subscribe(query, { n: 2 });
      await waitForActiveSubscriptions(server.app, 1);
      const again = live.subscribe(query, { n: 40 });
      await again.waitForEnd();
      expect(again.error).toEqual(refusedLive);
      small.unsubscribe();
      await waitForActiveSubscriptions(server.app, 0);
    });

    it('refuses the attack probe sent as a query', async () => {
      const probe = live.subscribe(`{ ${buildsCycle(4)} }`);
      await probe.waitForEnd();
      expect(probe.error).toEqual(refusedLive);
    });
  });
});

describe('operationCost', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await createSchema();
  });
  const cost = (query: string, variables: Record<string, unknown> = {}, operationName?: string) =>
    operationCost(schema, parse(query), operationName, variables);

  it('multiplies page sizes through the nesting and adds up every connection', () => {
    expect(cost(`{ ${buildsCycle(4)} }`)).toBe(20 + 20 ** 2 + 20 ** 3 + 20 ** 4);
    expect(cost(`query ($n: Int) { ${buildsCycle(3, '(first: $n)')} }`, { n: 40 })).toBe(40 + 40 ** 2 + 40 ** 3);
    expect(
      cost(
        '{ webhooks(first: 3) { totalCount nodes { deliveries(first: 5) { nodes { id } } } edges { node { id } } } projects { nodes { id } } }',
      ),
    ).toBe(3 * (1 + 5) + 100 + 20);
  });

  it('prices every aggregate at 100 nodes, times the page sizes around it', () => {
    // `totalCount` once per connection, not per node; `stats` once per webhook on the page.
    expect(cost('{ webhooks(first: 10) { totalCount nodes { id } } }')).toBe(10 + 100);
    expect(cost('{ webhooks(first: 10) { nodes { stats { succeeded } } } }')).toBe(10 + 10 * 100);
    expect(cost('{ webhooks(first: 10) { nodes { deliveries(first: 2) { totalCount } } } }')).toBe(10 + 10 * 2 + 10 * 100);
    // Aliases each count: the amplified query of the attack (29 stats under 10 deliveries) is refused.
    const aliases = Array.from({ length: 29 }, (_, i) => `s${i}: stats(since: "2000-01-01T00:00:00Z") { succeeded }`).join(' ');
    expect(cost(`{ deliveries(first: 10) { nodes { webhook { ${aliases} } } } }`)).toBe(10 + 10 * 29 * 100);
    expect(
      cost(
        'fragment F on WebhookConnection { totalCount } { webhooks(first: 5) { ...F nodes { deliveries(first: 3) { ...D } } } } fragment D on DeliveryConnection { totalCount }',
      ),
    ).toBe(5 + 100 + 5 * 3 + 5 * 100);
  });

  it('counts only the chosen operation, a null `first` as the default, and the largest page for more than that', () => {
    const document = 'query A { projects(first: 2) { nodes { id } } } query B { projects(first: null) { nodes { id } } }';
    expect(cost(document, {}, 'A')).toBe(2);
    expect(cost(document, {}, 'B')).toBe(20);
    expect(cost('query ($n: Int) { projects(first: $n) { nodes { id } } }', { n: null })).toBe(20);
    expect(cost('{ projects(first: 5000) { nodes { builds(first: 5000) { nodes { id } } } } }')).toBe(100 + 100 * 100);
  });

  it('costs nothing for introspection and plain fields', () => {
    expect(cost(getIntrospectionQuery())).toBe(0);
    expect(cost('{ viewer { id name } apiKeys { id } }')).toBe(0);
  });
});
