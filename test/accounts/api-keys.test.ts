import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { sql } from '../helpers/test-database';

describe('authentication and API keys', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;

  beforeAll(async () => {
    server = await startTestServer();
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
  });
  afterAll(() => server.stop());

  const raw = (headers: Record<string, string>, body: unknown) =>
    fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it.each([
    ['no Authorization header', {}],
    ['an unknown key', { authorization: `Bearer dfk_${'x'.repeat(43)}` }],
    ['a malformed key', { authorization: 'Bearer hunter2' }],
    ['the wrong scheme', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['an empty bearer', { authorization: 'Bearer ' }],
  ])('answers 401 UNAUTHENTICATED for %s, for queries and mutations', async (_name, headers) => {
    for (const query of ['{ viewer { id } }', 'mutation { createProject(input: { name: "x" }) { id } }']) {
      const response = await raw(headers, { query });
      expect(response.status).toBe(401);
      const body = await response.json();
      expect(body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(body.data).toBeUndefined();
    }
    const projects = await sql(server.app.db.reader, 'SELECT count(*) AS n FROM projects');
    expect(projects[0].n).toBe(0);
  });

  it('allows introspection without a key, and nothing else in the same request', async () => {
    const response = await raw({}, { query: '{ __schema { queryType { name } } __typename }' });
    expect(response.status).toBe(200);
    expect((await response.json()).data.__schema.queryType.name).toBe('Query');
    const mixed = await raw({}, { query: '{ __schema { queryType { name } } viewer { id } }' });
    expect(mixed.status).toBe(401);
  });

  it('accepts the scheme case-insensitively', async () => {
    const response = await raw({ authorization: `bearer ${acme.apiKey}` }, { query: '{ viewer { name } }' });
    expect((await response.json()).data.viewer.name).toBe('Acme');
  });

  it('creates keys shown once, lists them without secrets, and revokes them at once', async () => {
    const created = await gqlOk(
      server.url,
      'mutation { createApiKey(name: "ci") { key apiKey { id name prefix createdAt revokedAt } } }',
      {},
      acme.apiKey,
    );
    const { key, apiKey } = created.createApiKey;
    expect(key).toMatch(/^dfk_[A-Za-z0-9_-]{32,}$/);
    expect(apiKey).toMatchObject({ name: 'ci', prefix: key.slice(0, 8), revokedAt: null });
    expect(apiKey.id).toMatch(/^key_/);
    expect((await gqlOk(server.url, '{ viewer { name } }', {}, key)).viewer.name).toBe('Acme');

    const listed = await gqlOk(server.url, '{ apiKeys { id name } }', {}, acme.apiKey);
    expect(listed.apiKeys.map((k: { name: string }) => k.name).sort()).toEqual(['ci', 'default']);
    expect(JSON.stringify(listed)).not.toContain(key);
    const stored = await sql(server.app.db.reader, 'SELECT "keyHash" FROM api_keys WHERE id = ?', [apiKey.id]);
    expect(stored[0].keyHash).toMatch(/^[0-9a-f]{64}$/);
    expect(stored[0].keyHash).not.toContain(key.slice(4));

    const revoked = await gqlOk(
      server.url,
      'mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }',
      { id: apiKey.id },
      acme.apiKey,
    );
    expect(revoked.revokeApiKey.revokedAt).not.toBeNull();
    const after = await gql(server.url, '{ viewer { name } }', {}, key);
    expect(after.status).toBe(401);
    expect(errorOf(after).code).toBe('UNAUTHENTICATED');
    expect((await gqlOk(server.url, '{ viewer { name } }', {}, acme.apiKey)).viewer.name).toBe('Acme');
  });

  it("cannot see or revoke another account's keys", async () => {
    const globexKeys = await gqlOk(server.url, '{ apiKeys { id } }', {}, globex.apiKey);
    const foreignId = globexKeys.apiKeys[0].id;
    const response = await gql(server.url, 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: foreignId }, acme.apiKey);
    expect(errorOf(response).code).toBe('NOT_FOUND');
    expect((await gqlOk(server.url, '{ viewer { name } }', {}, globex.apiKey)).viewer.name).toBe('Globex');
    const acmeKeys = await gqlOk(server.url, '{ apiKeys { id } }', {}, acme.apiKey);
    expect(acmeKeys.apiKeys.map((k: { id: string }) => k.id)).not.toContain(foreignId);
  });

  it('refuses an empty key name', async () => {
    const response = await gql(server.url, 'mutation { createApiKey(name: "  ") { key } }', {}, acme.apiKey);
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
  });
});
