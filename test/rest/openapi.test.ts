import { Conflict } from '../../src/errors';
import { ALL_EVENT_TYPES } from '../../src/events/event-type';
import { createAccount, TestAccount } from '../helpers/graphql';
import { resolveRef, schemaErrors } from '../helpers/json-schema';
import { rest, RestResponse } from '../helpers/rest';
import { startTestServer, TestServer } from '../helpers/server';

/** The event names listed on the DeskForge webhooks page. */
const PAGE_EVENTS = [
  'build.queued',
  'build.started',
  'build.succeeded',
  'build.failed',
  'project.created',
  'project.updated',
  'project.deleted',
];
const PAGE_BODY = {
  url: 'https://your-app.com/webhooks/deskforge',
  events: ['build.succeeded', 'build.failed'],
  secret: 'your_webhook_secret',
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** Every `$ref` anywhere below `node`. */
function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}

describe('GET /openapi.json', () => {
  let server: TestServer;
  let account: TestAccount;
  let document: any;

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
    const response = await rest(server.origin, 'GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = JSON.parse(response.text);
  });
  afterAll(() => server.stop());

  /** `[path, method, operation]` for every operation of the document. */
  const operations = (): Array<[string, string, any]> =>
    Object.entries<any>(document.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method): [string, string, any] => [path, method, item[method]]),
    );
  const resolved = (node: any) => (node.$ref ? resolveRef(document, node.$ref) : node);

  it('is an OpenAPI 3.1 document of the four requests, served without a key', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.info).toEqual(expect.objectContaining({ title: expect.any(String), version: expect.any(String) }));
    expect(operations().map(([path, method]) => `${method.toUpperCase()} ${path}`)).toEqual(
      expect.arrayContaining([
        'POST /webhooks',
        'GET /webhooks',
        'GET /webhooks/{webhookId}',
        'DELETE /webhooks/{webhookId}',
        'GET /openapi.json',
      ]),
    );
    expect(document.components.securitySchemes[Object.keys(document.security[0])[0]]).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('is well formed: every $ref resolves, every operation has an id and described responses, every path parameter is declared', () => {
    for (const ref of refsIn(document)) expect([ref, resolveRef(document, ref) !== undefined]).toEqual([ref, true]);
    const ids = operations().map(([, , operation]) => operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, , operation] of operations()) {
      expect(Object.keys(operation.responses).length).toBeGreaterThan(0);
      for (const response of Object.values<any>(operation.responses)) expect(typeof resolved(response).description).toBe('string');
      const declared = [...(document.paths[path].parameters ?? []), ...(operation.parameters ?? [])].filter(
        (parameter: any) => parameter.in === 'path',
      );
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]);
      expect(declared.map((parameter: any) => parameter.name).sort()).toEqual(templated.sort());
      expect(declared.every((parameter: any) => parameter.required === true)).toBe(true);
    }
  });

  it("lists the page's event names as an enum, the same as the code's", () => {
    expect(document.components.schemas.EventName.enum).toEqual(PAGE_EVENTS);
    expect(document.components.schemas.EventName.enum).toEqual(ALL_EVENT_TYPES);
  });

  it("describes the page's request body, and refuses what the service refuses", () => {
    const request = document.paths['/webhooks'].post.requestBody.content['application/json'].schema;
    expect(schemaErrors(document, request, PAGE_BODY)).toEqual([]);
    expect(schemaErrors(document, request, { ...PAGE_BODY, events: ['build.exploded'] })).not.toEqual([]);
    expect(schemaErrors(document, request, { events: ['build.failed'] })).not.toEqual([]);
    expect(schemaErrors(document, request, { ...PAGE_BODY, evnts: [] })).not.toEqual([]);
  });

  describe('every documented answer, as documented', () => {
    let created: string;
    beforeAll(async () => {
      created = (await rest(server.origin, 'POST', '/webhooks', { key: account.apiKey, body: PAGE_BODY })).body.id;
    });

    const key = () => account.apiKey;
    /** One request per documented `METHOD path status`; the test fails when the document and this list differ. */
    const provokers: Record<string, () => Promise<RestResponse>> = {
      'POST /webhooks 201': () => rest(server.origin, 'POST', '/webhooks', { key: key(), body: PAGE_BODY }),
      'POST /webhooks 400': () =>
        rest(server.origin, 'POST', '/webhooks', { key: key(), body: { ...PAGE_BODY, events: ['build.exploded'] } }),
      'POST /webhooks 401': () => rest(server.origin, 'POST', '/webhooks', { body: PAGE_BODY }),
      // The service's refusal at the cap (test/webhooks/webhook-limit.test.ts makes a real one).
      'POST /webhooks 409': async () => {
        const create = jest
          .spyOn(server.app.services.webhooks, 'create')
          .mockRejectedValueOnce(new Conflict('An account holds at most 500 webhooks'));
        try {
          return await rest(server.origin, 'POST', '/webhooks', { key: key(), body: PAGE_BODY });
        } finally {
          create.mockRestore();
        }
      },
      'POST /webhooks 413': () =>
        rest(server.origin, 'POST', '/webhooks', { key: key(), body: { ...PAGE_BODY, description: 'd'.repeat(2 * 1024 * 1024) } }),
      'GET /webhooks 200': () => rest(server.origin, 'GET', '/webhooks', { key: key() }),
      'GET /webhooks 401': () => rest(server.origin, 'GET', '/webhooks'),
      'GET /webhooks/{webhookId} 200': () => rest(server.origin, 'GET', `/webhooks/${created}`, { key: key() }),
      'GET /webhooks/{webhookId} 401': () => rest(server.origin, 'GET', `/webhooks/${created}`),
      'GET /webhooks/{webhookId} 404': () => rest(server.origin, 'GET', '/webhooks/wh_abc123', { key: key() }),
      'DELETE /webhooks/{webhookId} 401': () => rest(server.origin, 'DELETE', `/webhooks/${created}`),
      'DELETE /webhooks/{webhookId} 404': () => rest(server.origin, 'DELETE', '/webhooks/wh_abc123', { key: key() }),
      'DELETE /webhooks/{webhookId} 200': () => rest(server.origin, 'DELETE', `/webhooks/${created}`, { key: key() }),
      'GET /openapi.json 200': () => rest(server.origin, 'GET', '/openapi.json'),
    };

    it('documents the generated secret of a 201', async () => {
      const response = await rest(server.origin, 'POST', '/webhooks', {
        key: key(),
        body: { url: PAGE_BODY.url, events: PAGE_BODY.events },
      });
      const schema = document.paths['/webhooks'].post.responses[201].content['application/json'].schema;
      expect(response.body.secret).toMatch(/^whsec_/);
      expect(schemaErrors(document, schema, response.body, { strict: true })).toEqual([]);
    });

    it('documents exactly the answers provoked here', () => {
      const documented = operations().flatMap(([path, method, operation]) =>
        Object.keys(operation.responses).map((status) => `${method.toUpperCase()} ${path} ${status}`),
      );
      expect(documented.sort()).toEqual(Object.keys(provokers).sort());
    });

    // In the order above: the deletion comes after the other requests on the webhook.
    it.each(Object.keys(provokers))('%s', async (name) => {
      const [method, path, status] = name.split(' ');
      const response = await provokers[name]();
      expect(response.status).toBe(Number(status));
      const documented = resolved(document.paths[path][method.toLowerCase()].responses[status]);
      const schema = documented.content['application/json'].schema;
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(schemaErrors(document, schema, response.body, { strict: true })).toEqual([]);
    });
  });
});
