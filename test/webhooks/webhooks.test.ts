import { testResolver } from '../helpers/dns';
import { CREATE_WEBHOOK } from '../helpers/fixtures';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { sql } from '../helpers/test-database';

const WEBHOOK_FIELDS = 'id url events active description disabledReason consecutiveFailures createdAt updatedAt';

describe('webhook management', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;

  beforeAll(async () => {
    server = await startTestServer({ webhook: { allowPrivateUrls: false } }, { resolve: testResolver });
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
  });
  afterAll(() => server.stop());

  const create = (input: Record<string, unknown>, key = acme.apiKey) => gql(server.url, CREATE_WEBHOOK, { input }, key);

  it('creates the DeskForge example webhook and returns its secret once', async () => {
    const response = await create({
      url: 'https://your-app.com/webhooks/deskforge',
      events: ['BUILD_SUCCEEDED', 'BUILD_FAILED'],
      secret: 'your_webhook_secret',
    });
    expect(response.errors).toBeUndefined();
    const { webhook, secret } = response.data.createWebhook;
    expect(secret).toBe('your_webhook_secret');
    expect(webhook).toMatchObject({
      url: 'https://your-app.com/webhooks/deskforge',
      events: ['BUILD_SUCCEEDED', 'BUILD_FAILED'],
      active: true,
      description: null,
      disabledReason: null,
      consecutiveFailures: 0,
    });
    expect(webhook.id).toMatch(/^wh_[A-Za-z0-9]{24}$/);
    expect(new Date(webhook.createdAt).toISOString()).toBe(webhook.createdAt);
  });

  it('generates a whsec_ secret of 32 random bytes when none is given, and folds duplicate events', async () => {
    const response = await create({ url: 'https://example.com/hook', events: ['BUILD_FAILED', 'BUILD_FAILED', 'PROJECT_CREATED'] });
    const { webhook, secret } = response.data.createWebhook;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(webhook.events).toEqual(['BUILD_FAILED', 'PROJECT_CREATED']);
    const other = await create({ url: 'https://example.com/hook', events: ['BUILD_FAILED'] });
    expect(other.data.createWebhook.secret).not.toBe(secret);
  });

  it('never exposes the secret through queries', async () => {
    const introspection = await gqlOk(server.url, '{ __type(name: "Webhook") { fields { name } } }');
    const fields = introspection.__type.fields.map((field: { name: string }) => field.name);
    expect(fields).not.toContain('secret');
    expect(fields).toEqual(expect.arrayContaining(['id', 'url', 'events', 'active', 'deliveries']));
  });

  it.each([
    ['an http:// URL', { url: 'http://example.com/hook' }, 'url'],
    ['a relative URL', { url: '/hook' }, 'url'],
    ['an ftp URL', { url: 'ftp://example.com/hook' }, 'url'],
    ['a URL over 2048 characters', { url: `https://example.com/${'a'.repeat(2048)}` }, 'url'],
    ['a loopback IP', { url: 'https://127.0.0.1/hook' }, 'url'],
    ['a loopback IPv6', { url: 'https://[::1]/hook' }, 'url'],
    ['an IPv4-mapped loopback', { url: 'https://[::ffff:127.0.0.1]/hook' }, 'url'],
    ['a private 10/8 IP', { url: 'https://10.1.2.3/hook' }, 'url'],
    ['a private 192.168 IP', { url: 'https://192.168.1.1/hook' }, 'url'],
    ['a private 172.16 IP', { url: 'https://172.20.0.1/hook' }, 'url'],
    ['a link-local IP (cloud metadata)', { url: 'https://169.254.169.254/latest/meta-data' }, 'url'],
    ['a CGNAT IP', { url: 'https://100.64.0.1/hook' }, 'url'],
    ['a multicast IP', { url: 'https://224.0.0.1/hook' }, 'url'],
    ['the unspecified address', { url: 'https://0.0.0.0/hook' }, 'url'],
    ['a unique-local IPv6', { url: 'https://[fd00::1]/hook' }, 'url'],
    ['localhost', { url: 'https://localhost/hook' }, 'url'],
    ['a name resolving to a private address', { url: 'https://internal.test/hook' }, 'url'],
    ['a name with one private address among public ones', { url: 'https://mixed.test/hook' }, 'url'],
    ['a name that does not resolve', { url: 'https://nowhere.test/hook' }, 'url'],
    ['an empty event list', { events: [] }, 'events'],
    ['a 15-character secret', { secret: 'a'.repeat(15) }, 'secret'],
    ['a 257-character secret', { secret: 'a'.repeat(257) }, 'secret'],
    ['a description over 1000 characters', { description: 'd'.repeat(1001) }, 'description'],
  ])('refuses %s with BAD_USER_INPUT on its field', async (_name, change, field) => {
    const response = await create({ url: 'https://example.com/hook', events: ['BUILD_FAILED'], ...change });
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(response.data?.createWebhook ?? null).toBeNull();
    expect(JSON.stringify(response)).not.toMatch(/\bat .*\.(ts|js):\d+/);
  });

  it('refuses an unknown event type at validation, naming the field', async () => {
    const response = await create({ url: 'https://example.com/hook', events: ['BUILD_EXPLODED'] });
    expect(response.status).toBe(400);
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events' });
  });

  it('accepts secrets of exactly 16 and 256 characters', async () => {
    for (const secret of ['s'.repeat(16), 's'.repeat(256)]) {
      const response = await create({ url: 'https://example.com/hook', events: ['BUILD_FAILED'], secret });
      expect(response.data.createWebhook.secret).toBe(secret);
    }
  });

  it('updates url, events, description and active; re-enabling clears the failure state', async () => {
    const created = (await create({ url: 'https://example.com/a', events: ['BUILD_FAILED'] })).data.createWebhook.webhook;
    await server.app.db.writes.write(({ manager }) =>
      manager.update('webhooks', { id: created.id }, { active: false, disabledReason: 'too many failures', consecutiveFailures: 15 }),
    );
    const updated = await gqlOk(
      server.url,
      `mutation ($id: ID!, $input: UpdateWebhookInput!) { updateWebhook(id: $id, input: $input) { ${WEBHOOK_FIELDS} } }`,
      {
        id: created.id,
        input: { url: 'https://example.com/b', events: ['PROJECT_DELETED', 'PROJECT_DELETED'], description: 'ops', active: true },
      },
      acme.apiKey,
    );
    expect(updated.updateWebhook).toMatchObject({
      url: 'https://example.com/b',
      events: ['PROJECT_DELETED'],
      description: 'ops',
      active: true,
      disabledReason: null,
      consecutiveFailures: 0,
    });
    expect(updated.updateWebhook.updatedAt >= created.updatedAt).toBe(true);
    const bad = await gql(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { url: "https://10.0.0.1/x" }) { id } }',
      { id: created.id },
      acme.apiKey,
    );
    expect(errorOf(bad)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
    const emptyEvents = await gql(
      server.url,
      'mutation ($id: ID!) { updateWebhook(id: $id, input: { events: [] }) { id } }',
      { id: created.id },
      acme.apiKey,
    );
    expect(errorOf(emptyEvents)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'events' });
    const after = await gqlOk(server.url, 'query ($id: ID!) { webhook(id: $id) { url events } }', { id: created.id }, acme.apiKey);
    expect(after.webhook).toEqual({ url: 'https://example.com/b', events: ['PROJECT_DELETED'] });
  });

  it('rotates the secret, returning the new one', async () => {
    const created = (await create({ url: 'https://example.com/r', events: ['BUILD_FAILED'], secret: 'first-secret-0123456789' })).data
      .createWebhook;
    const rotated = await gqlOk(
      server.url,
      'mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret webhook { id } } }',
      { id: created.webhook.id },
      acme.apiKey,
    );
    expect(rotated.rotateWebhookSecret.webhook.id).toBe(created.webhook.id);
    expect(rotated.rotateWebhookSecret.secret).toMatch(/^whsec_/);
    const chosen = await gqlOk(
      server.url,
      'mutation ($id: ID!, $s: String) { rotateWebhookSecret(id: $id, secret: $s) { secret } }',
      { id: created.webhook.id, s: 'my-own-new-secret-123' },
      acme.apiKey,
    );
    expect(chosen.rotateWebhookSecret.secret).toBe('my-own-new-secret-123');
    const stored = await sql(
      server.app.db.reader,
      'SELECT secret, "previousSecret", "previousSecretExpiresAt" FROM webhooks WHERE id = ?',
      [created.webhook.id],
    );
    expect(stored[0].secret).toBe('my-own-new-secret-123');
    expect(stored[0].previousSecret).toBe(rotated.rotateWebhookSecret.secret);
    const short = await gql(
      server.url,
      'mutation ($id: ID!) { rotateWebhookSecret(id: $id, secret: "short") { secret } }',
      { id: created.webhook.id },
      acme.apiKey,
    );
    expect(errorOf(short)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'secret' });
  });

  it('deletes a webhook with the DeskForge response shape', async () => {
    const id = (await create({ url: 'https://example.com/d', events: ['BUILD_FAILED'] })).data.createWebhook.webhook.id;
    const deleted = await gqlOk(server.url, 'mutation ($id: ID!) { deleteWebhook(id: $id) { id deleted message } }', { id }, acme.apiKey);
    expect(deleted.deleteWebhook).toEqual({ id, deleted: true, message: 'Webhook deleted successfully' });
    const again = await gql(server.url, 'mutation ($id: ID!) { deleteWebhook(id: $id) { id } }', { id }, acme.apiKey);
    expect(errorOf(again).code).toBe('NOT_FOUND');
    expect((await gqlOk(server.url, 'query ($id: ID!) { webhook(id: $id) { id } }', { id }, acme.apiKey)).webhook).toBeNull();
  });

  it("treats another account's webhook exactly like a missing one", async () => {
    const id = (await create({ url: 'https://example.com/mine', events: ['BUILD_FAILED'] })).data.createWebhook.webhook.id;
    const key = globex.apiKey;
    expect((await gqlOk(server.url, 'query ($id: ID!) { webhook(id: $id) { id } }', { id }, key)).webhook).toBeNull();
    const missing = 'wh_000000000000000000000000';
    for (const [document, variables] of [
      ['mutation ($id: ID!) { updateWebhook(id: $id, input: { description: "x" }) { id } }', {}],
      ['mutation ($id: ID!) { deleteWebhook(id: $id) { id } }', {}],
      ['mutation ($id: ID!) { rotateWebhookSecret(id: $id) { secret } }', {}],
    ] as const) {
      const foreign = await gql(server.url, document, { id, ...variables }, key);
      const absent = await gql(server.url, document, { id: missing, ...variables }, key);
      expect(errorOf(foreign)).toEqual(errorOf(absent));
      expect(errorOf(foreign).code).toBe('NOT_FOUND');
    }
    const list = await gqlOk(server.url, '{ webhooks(first: 100) { nodes { id } } }', {}, key);
    expect(list.webhooks.nodes.map((node: { id: string }) => node.id)).not.toContain(id);
    const still = await gqlOk(server.url, 'query ($id: ID!) { webhook(id: $id) { description } }', { id }, acme.apiKey);
    expect(still.webhook.description).toBeNull();
  });
});

describe('webhook list pagination', () => {
  let server: TestServer;
  let account: TestAccount;
  const ids: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
    for (let i = 0; i < 45; i++) {
      const response = await gqlOk(
        server.url,
        CREATE_WEBHOOK,
        { input: { url: `http://127.0.0.1:9/${i}`, events: ['BUILD_FAILED'], active: i % 3 !== 0 } },
        account.apiKey,
      );
      ids.push(response.createWebhook.webhook.id);
    }
  });
  afterAll(() => server.stop());

  const PAGE = `query ($first: Int, $after: String, $active: Boolean) {
    webhooks(first: $first, after: $after, active: $active) {
      totalCount nodes { id createdAt } edges { cursor node { id } } pageInfo { hasNextPage endCursor }
    }
  }`;

  it('walks every webhook once, newest first, 20 by default', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const data: any = await gqlOk(server.url, PAGE, { after }, account.apiKey);
      const page = data.webhooks;
      expect(page.totalCount).toBe(45);
      expect(page.nodes.length).toBeLessThanOrEqual(20);
      expect(page.edges.map((edge: any) => edge.node.id)).toEqual(page.nodes.map((node: any) => node.id));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      seen.push(...page.nodes.map((node: { id: string }) => node.id));
      pages++;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(45);
    expect([...seen].sort()).toEqual([...ids].sort());
    const created = await sql(server.app.db.reader, 'SELECT id FROM webhooks ORDER BY "createdAt" DESC, id DESC');
    expect(seen).toEqual(created.map((row: { id: string }) => row.id));
  });

  it('answers every field asked through fragments and edges, reading only what the page needs', async () => {
    const query = `query {
      webhooks(first: 3) {
        nodes { ...Listed }
        edges { node { ... on Webhook { description active consecutiveFailures } } }
      }
      full: webhooks(first: 3) { nodes { id url events active description disabledReason consecutiveFailures createdAt updatedAt } }
    }
    fragment Listed on Webhook { id url events createdAt }`;
    const data = await gqlOk(server.url, query, {}, account.apiKey);
    const full = data.full.nodes;
    expect(full[0].url).toMatch(/^http:\/\/127\.0\.0\.1:9\//);
    expect(data.webhooks.nodes).toEqual(full.map(({ id, url, events, createdAt }: any) => ({ id, url, events, createdAt })));
    expect(data.webhooks.edges.map((edge: any) => edge.node)).toEqual(
      full.map(({ description, active, consecutiveFailures }: any) => ({ description, active, consecutiveFailures })),
    );
  });

  it('filters by active and counts only the filtered rows', async () => {
    const active = await gqlOk(server.url, PAGE, { first: 100, active: true }, account.apiKey);
    const inactive = await gqlOk(server.url, PAGE, { first: 100, active: false }, account.apiKey);
    expect(active.webhooks.totalCount).toBe(30);
    expect(inactive.webhooks.totalCount).toBe(15);
    expect(active.webhooks.nodes).toHaveLength(30);
  });

  it('caps first at 100 and refuses bad cursors', async () => {
    expect(errorOf(await gql(server.url, PAGE, { first: 101 }, account.apiKey))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(errorOf(await gql(server.url, PAGE, { first: 0 }, account.apiKey))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(errorOf(await gql(server.url, PAGE, { first: -5 }, account.apiKey))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(errorOf(await gql(server.url, PAGE, { after: 'not-a-cursor' }, account.apiKey))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'after',
    });
    const full = await gqlOk(server.url, PAGE, { first: 100 }, account.apiKey);
    expect(full.webhooks.nodes).toHaveLength(45);
    expect(full.webhooks.pageInfo.hasNextPage).toBe(false);
  });
});
