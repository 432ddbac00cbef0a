import { Conflict } from '../../src/errors';
import { testResolver } from '../helpers/dns';
import { createAccount, TestAccount } from '../helpers/graphql';
import { rest, RestResponse } from '../helpers/rest';
import { startTestServer, TestServer } from '../helpers/server';
import { request } from 'node:http';

/**
 * A request with exactly these headers and no body bytes: `transfer-encoding: chunked` sends the
 * empty last chunk only, and without a length header the body simply ends. `fetch` cannot frame these.
 */
function rawRequest(origin: string, method: string, path: string, headers: Record<string, string>): Promise<RestResponse> {
  return new Promise((resolve, reject) => {
    const sent = request(`${origin}${path}`, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: new Headers(response.headers as Record<string, string>), body, text });
      });
    });
    sent.on('error', reject);
    sent.end();
  });
}

const GOOD = { url: 'https://your-app.com/webhooks/deskforge', events: ['build.succeeded', 'build.failed'] };

/** The error answer's shape, exactly: `{ error: { code, message, field? } }`, and no trace of the code behind it. */
function expectError(response: RestResponse, status: number, code: string, field?: string): void {
  expect({ status: response.status, code: response.body?.error?.code, field: response.body?.error?.field }).toEqual({
    status,
    code,
    field,
  });
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(response.body)).toEqual(['error']);
  expect(Object.keys(response.body.error).sort()).toEqual(field === undefined ? ['code', 'message'] : ['code', 'field', 'message']);
  expect(typeof response.body.error.message).toBe('string');
  expect(response.text).not.toMatch(/\bat .*\.(ts|js):\d+|node_modules|stack/);
}

describe('REST errors', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;

  beforeAll(async () => {
    server = await startTestServer({ webhook: { allowPrivateUrls: false } }, { resolve: testResolver });
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
  });
  afterAll(() => server.stop());

  const post = (body: unknown, key = acme.apiKey, headers: Record<string, string> = {}) =>
    rest(server.origin, 'POST', '/webhooks', { key, body, headers });
  const stored = async (account: TestAccount) => (await server.app.services.webhooks.listAll(account.accountId)).length;

  describe('401 UNAUTHENTICATED', () => {
    const requests: Array<[string, string, unknown]> = [
      ['POST', '/webhooks', GOOD],
      ['GET', '/webhooks', undefined],
      ['GET', '/webhooks/wh_abc123', undefined],
      ['DELETE', '/webhooks/wh_abc123', undefined],
    ];

    it.each(requests)('%s %s without a key', async (method, path, body) => {
      expectError(await rest(server.origin, method, path, { body }), 401, 'UNAUTHENTICATED');
    });

    it.each([
      ['an unknown key', `Bearer dfk_${'x'.repeat(43)}`],
      ['a key that is not a DeskForge key', 'Bearer YOUR_API_KEY'],
      ['another scheme', `Basic ${Buffer.from('user:pass').toString('base64')}`],
      ['an empty bearer', 'Bearer '],
    ])('with %s', async (_name, authorization) => {
      expectError(await rest(server.origin, 'GET', '/webhooks', { headers: { authorization } }), 401, 'UNAUTHENTICATED');
    });

    it('with a revoked key, from the very next request', async () => {
      const { apiKey, key } = await server.app.services.accounts.createApiKey(acme.accountId, 'ci');
      expect((await rest(server.origin, 'GET', '/webhooks', { key })).status).toBe(200);
      await server.app.services.accounts.revokeApiKey(acme.accountId, apiKey.id);
      expectError(await rest(server.origin, 'GET', '/webhooks', { key }), 401, 'UNAUTHENTICATED');
    });

    it('before the body is read: a bad body without a key is still 401, and nothing is stored', async () => {
      const before = await stored(acme);
      expectError(await rest(server.origin, 'POST', '/webhooks', { body: '{not json' }), 401, 'UNAUTHENTICATED');
      expectError(await rest(server.origin, 'POST', '/webhooks', { body: GOOD }), 401, 'UNAUTHENTICATED');
      expect(await stored(acme)).toBe(before);
    });
  });

  describe('400 BAD_USER_INPUT names the field, with the same rules as GraphQL', () => {
    it.each([
      ['an http:// URL', { url: 'http://your-app.com/hook' }, 'url'],
      ['a relative URL', { url: '/hook' }, 'url'],
      ['a URL over 2048 characters', { url: `https://your-app.com/${'a'.repeat(2048)}` }, 'url'],
      ['a loopback IP', { url: 'https://127.0.0.1/hook' }, 'url'],
      ['the cloud metadata address', { url: 'https://169.254.169.254/latest/meta-data' }, 'url'],
      ['a name resolving to a private address', { url: 'https://internal.test/hook' }, 'url'],
      ['a name that does not resolve', { url: 'https://nowhere.test/hook' }, 'url'],
      ['localhost', { url: 'https://localhost/hook' }, 'url'],
      ['a missing url', { url: undefined }, 'url'],
      ['a null url', { url: null }, 'url'],
      ['a url that is not a string', { url: 42 }, 'url'],
      ['an unknown event name', { events: ['build.succeeded', 'build.exploded'] }, 'events'],
      ['a GraphQL enum name (REST takes the dotted names only)', { events: ['BUILD_SUCCEEDED'] }, 'events'],
      ['an event that is not a string', { events: [7] }, 'events'],
      ['events that are not a list', { events: 'build.succeeded' }, 'events'],
      ['an empty event list', { events: [] }, 'events'],
      ['missing events', { events: undefined }, 'events'],
      ['a 15-character secret', { secret: 's'.repeat(15) }, 'secret'],
      ['a 257-character secret', { secret: 's'.repeat(257) }, 'secret'],
      ['a secret that is not a string', { secret: 1234567890123456 }, 'secret'],
      ['a description over 1000 characters', { description: 'd'.repeat(1001) }, 'description'],
      ['an active that is not a boolean', { active: 'yes' }, 'active'],
      ['an unknown field', { evnts: ['build.failed'] }, 'evnts'],
    ])('refuses %s', async (_name, change, field) => {
      const before = await stored(acme);
      const response = await post({ ...GOOD, ...change });
      expectError(response, 400, 'BAD_USER_INPUT', field);
      expect(response.body.error.message).toContain(`"${field}"`);
      expect(await stored(acme)).toBe(before);
    });

    it('names the unknown event and the known ones', async () => {
      const response = await post({ ...GOOD, events: ['build.exploded'] });
      expect(response.body.error.message).toBe(
        '"events" has an unknown event name "build.exploded"; the names are build.queued, build.started, build.succeeded, build.failed, project.created, project.updated, project.deleted',
      );
    });

    it('says what GraphQL says for the same rule', async () => {
      const response = await post({ ...GOOD, url: 'http://your-app.com/hook' });
      expect(response.body.error.message).toBe('"url" must use https');
    });
  });

  describe('400 BAD_REQUEST: a body that is not a JSON object', () => {
    it.each([
      ['malformed JSON', '{"url": "https://your-app.com/hook",'],
      ['a JSON array', '[{"url": "https://your-app.com/hook", "events": ["build.failed"]}]'],
      ['a JSON string', '"https://your-app.com/hook"'],
      ['a JSON number', '42'],
      ['JSON null', 'null'],
      ['a form-encoded body', 'url=https%3A%2F%2Fyour-app.com%2Fhook&events=build.failed'],
    ])('%s', async (_name, body) => {
      expectError(await post(body), 400, 'BAD_REQUEST');
    });

    it('no body at all', async () => {
      expectError(await rest(server.origin, 'POST', '/webhooks', { key: acme.apiKey }), 400, 'BAD_REQUEST');
    });

    it('an empty body however it is framed: Content-Length: 0, chunked, or no length at all', async () => {
      const headers = { authorization: `Bearer ${acme.apiKey}`, 'content-type': 'application/json' };
      expectError(await rawRequest(server.origin, 'POST', '/webhooks', { ...headers, 'content-length': '0' }), 400, 'BAD_REQUEST');
      expectError(await rawRequest(server.origin, 'POST', '/webhooks', { ...headers, 'transfer-encoding': 'chunked' }), 400, 'BAD_REQUEST');
      expectError(await rawRequest(server.origin, 'POST', '/webhooks', headers), 400, 'BAD_REQUEST');
    });

    it('a body is read only where one is expected: a DELETE with an empty chunked body deletes', async () => {
      const id = (await post(GOOD)).body.id as string;
      const deleted = await rawRequest(server.origin, 'DELETE', `/webhooks/${id}`, {
        authorization: `Bearer ${acme.apiKey}`,
        'transfer-encoding': 'chunked',
      });
      expect({ status: deleted.status, deleted: deleted.body?.deleted }).toEqual({ status: 200, deleted: true });
    });

    it('reads a JSON object sent without Content-Type: application/json', async () => {
      const response = await post(JSON.stringify(GOOD), acme.apiKey, { 'content-type': 'text/plain' });
      expect(response.status).toBe(201);
    });
  });

  describe('404 NOT_FOUND', () => {
    it("another account's webhook looks exactly like a missing one, for GET and DELETE", async () => {
      const theirs = (await post(GOOD, globex.apiKey)).body.id as string;
      for (const method of ['GET', 'DELETE']) {
        const foreign = await rest(server.origin, method, `/webhooks/${theirs}`, { key: acme.apiKey });
        const missing = await rest(server.origin, method, '/webhooks/wh_000000000000000000000000', { key: acme.apiKey });
        expectError(foreign, 404, 'NOT_FOUND');
        expect(foreign.body).toEqual(missing.body);
      }
      expect((await rest(server.origin, 'GET', `/webhooks/${theirs}`, { key: globex.apiKey })).status).toBe(200);
      expect(
        (await rest(server.origin, 'GET', '/webhooks', { key: acme.apiKey })).body.webhooks.map((webhook: { id: string }) => webhook.id),
      ).not.toContain(theirs);
    });

    it('a path below /webhooks that is no endpoint', async () => {
      expectError(await rest(server.origin, 'GET', '/webhooks/wh_abc123/deliveries', { key: acme.apiKey }), 404, 'NOT_FOUND');
    });

    it.each(['/webhooks;x', '//webhooks', '//webhooks/wh_abc123', '/webhooks.json', '/nowhere', '/graphiql-assets/nothing.js'])(
      'any other path, %s, with a key or without: JSON, never an HTML page',
      async (path) => {
        expectError(await rest(server.origin, 'GET', path, { key: acme.apiKey }), 404, 'NOT_FOUND');
        expectError(await rest(server.origin, 'POST', path, { body: GOOD }), 404, 'NOT_FOUND');
      },
    );
  });

  it('409 CONFLICT when the service refuses for the state of things', async () => {
    const create = jest.spyOn(server.app.services.webhooks, 'create').mockRejectedValueOnce(new Conflict('Webhook is being changed'));
    try {
      const response = await post(GOOD);
      expectError(response, 409, 'CONFLICT');
      expect(response.body.error.message).toBe('Webhook is being changed');
    } finally {
      create.mockRestore();
    }
  });

  it('413 PAYLOAD_TOO_LARGE for a body over 1 MB, and the server goes on', async () => {
    const response = await post({ ...GOOD, description: 'd'.repeat(server.config.limits.bodyBytes) });
    expectError(response, 413, 'PAYLOAD_TOO_LARGE');
    expect((await post(GOOD)).status).toBe(201);
  });

  it('405 METHOD_NOT_ALLOWED with Allow for a method an endpoint does not take', async () => {
    const put = await rest(server.origin, 'PUT', '/webhooks', { key: acme.apiKey, body: GOOD });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect(put.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const patch = await rest(server.origin, 'PATCH', '/webhooks/wh_abc123', { key: acme.apiKey, body: { active: false } });
    expect(patch.headers.get('allow')).toBe('GET, DELETE');
  });

  it('500 INTERNAL_SERVER_ERROR with a generic message for anything unexpected, details only in the log', async () => {
    const get = jest
      .spyOn(server.app.services.webhooks, 'get')
      .mockRejectedValueOnce(new Error('SQLITE_CORRUPT: secret internals at /srv/app/db.ts:12'));
    const logged = jest.spyOn(server.app.logger, 'error');
    try {
      const response = await rest(server.origin, 'GET', '/webhooks/wh_abc123', { key: acme.apiKey });
      expectError(response, 500, 'INTERNAL_SERVER_ERROR');
      expect(response.body.error.message).toBe('Internal server error');
      expect(response.text).not.toContain('SQLITE_CORRUPT');
      expect(logged).toHaveBeenCalledWith(expect.objectContaining({ err: expect.any(Error) }), 'unexpected error in a REST request');
    } finally {
      get.mockRestore();
      logged.mockRestore();
    }
    expect((await rest(server.origin, 'GET', '/webhooks', { key: acme.apiKey })).status).toBe(200);
  });

  it('leaves the paths of the rest of the service alone: health, metrics, OpenAPI, GraphiQL and GraphQL', async () => {
    expect((await fetch(`${server.origin}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.origin}/metrics`)).status).toBe(200);
    expect((await rest(server.origin, 'GET', '/openapi.json')).body.openapi).toMatch(/^3\.1/);
    const graphiql = await fetch(`${server.origin}/graphql`, { headers: { accept: 'text/html' } });
    expect({ status: graphiql.status, page: (await graphiql.text()).includes('GraphiQL') }).toEqual({ status: 200, page: true });
    const graphql = await rest(server.origin, 'POST', '/graphql', { key: acme.apiKey, body: { query: '{ viewer { name } }' } });
    expect(graphql.body).toEqual({ data: { viewer: { name: 'Acme' } } });
  });
});
