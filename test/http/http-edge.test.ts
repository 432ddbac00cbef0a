import { createAccount, gql, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

describe('the HTTP edge', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
  });
  afterAll(() => server.stop());

  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${account.apiKey}`, ...headers },
      body,
    });

  async function stillServing(): Promise<void> {
    const response = await gql(server.url, '{ viewer { id } }', {}, account.apiKey);
    expect(response.data.viewer.id).toBe(account.accountId);
  }

  it('GET /healthz is 200 {"status":"ok"} while the database answers, 503 when it does not', async () => {
    const ok = await fetch(`${server.origin}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok' });

    const other = await startTestServer();
    await other.app.db.close();
    const down = await fetch(`${other.origin}/healthz`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable' });
    await other.stop();
  });

  it('refuses a 5 MB body with 413 and a GraphQL-shaped error', async () => {
    const response = await post(JSON.stringify({ query: `{ viewer { id } } #${'x'.repeat(5 * 1024 * 1024)}` }));
    expect(response.status).toBe(413);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
    expect(JSON.stringify(body)).not.toMatch(/node_modules|\.js:\d+/);
    await stillServing();
  });

  it('answers malformed JSON with 400 and no stack trace', async () => {
    const response = await post('{"query": "{ viewer { id } }"');
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(JSON.stringify(body)).not.toMatch(/node_modules|\.js:\d+|at /);
    await stillServing();
  });

  it('answers a GraphQL syntax error with 400 GRAPHQL_PARSE_FAILED', async () => {
    const response = await gql(server.url, '{ viewer { id ', {}, account.apiKey);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('refuses a 200-level-deep query before executing it', async () => {
    // 4 levels per repetition: 200 levels deep.
    const deep = `{ webhooks ${'{ nodes { deliveries { nodes { webhook '.repeat(50)}{ id }${' } } } }'.repeat(50)} }`;
    const executed = jest.spyOn(server.app.services.webhooks, 'list');
    const response = await gql(server.url, deep, {}, account.apiKey);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.errors?.[0].message).toMatch(/depth/i);
    expect(executed).not.toHaveBeenCalled();
    executed.mockRestore();
    await stillServing();
  });

  it('refuses alias flooding and runaway cost', async () => {
    const aliases = `{ ${Array.from({ length: 200 }, (_, i) => `a${i}: viewer { id }`).join(' ')} }`;
    const flooded = await gql(server.url, aliases, {}, account.apiKey);
    expect(flooded.status).toBe(400);
    expect(flooded.errors?.[0].message).toMatch(/alias/i);

    const costly = `{ webhooks(first: 100) { nodes { deliveries(first: 100) { nodes { webhook { deliveries(first: 100) { nodes { webhook { deliveries { nodes { id } } } } } } } } } } }`;
    const response = await gql(server.url, costly, {}, account.apiKey);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].message).toMatch(/cost/i);
  });

  it('accepts the ordinary queries a dashboard makes', async () => {
    const dashboard = `{
      viewer { id name }
      webhooks { totalCount nodes { id url events active deliveries(first: 5) { nodes { id status attempts { number responseStatus error } event { id type payload data { project { id name } build { id status duration } } } } } } }
      projects { edges { cursor node { id name builds(first: 5) { nodes { id status project { id } } } } } pageInfo { hasNextPage endCursor } }
    }`;
    const response = await gql(server.url, dashboard, {}, account.apiKey);
    expect(response.errors).toBeUndefined();
    expect(response.data.viewer.id).toBe(account.accountId);
  });

  it('answers a GraphQL POST without an ETag (no hash of every answer) or X-Powered-By', async () => {
    const response = await post(JSON.stringify({ query: '{ webhooks(first: 20) { totalCount nodes { id url } } }' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('x-powered-by')).toBeNull();
  });

  it('GET /metrics serves the Prometheus text with the contract metrics', async () => {
    const response = await fetch(`${server.origin}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    for (const name of [
      'deskforge_webhook_deliveries_total',
      'deskforge_webhook_attempt_duration_seconds',
      'deskforge_webhook_queue_size',
      'deskforge_subscriptions_active',
    ]) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });

  it('masks unexpected errors as INTERNAL_SERVER_ERROR with a generic message', async () => {
    const broken = jest.spyOn(server.app.services.projects, 'list').mockRejectedValueOnce(new Error('SQLITE_CORRUPT: secret detail'));
    const response = await gql(server.url, '{ projects { totalCount } }', {}, account.apiKey);
    broken.mockRestore();
    expect(response.errors?.[0]).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(JSON.stringify(response)).not.toContain('SQLITE_CORRUPT');
    expect(JSON.stringify(response)).not.toContain('stacktrace');
  });
});
