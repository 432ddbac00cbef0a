import { EventType } from '../../src/events/event-type';
import { ManualClock } from '../helpers/clock';
import { testResolver } from '../helpers/dns';
import { createAccount, TestAccount } from '../helpers/graphql';
import { rest, runCurl } from '../helpers/rest';
import { startTestServer, TestServer } from '../helpers/server';

/* The three requests of the DeskForge webhooks page, copied from it character for character. */
const CREATE = String.raw`curl -X POST https://api.deskforge.app/webhooks \
-H "Authorization: Bearer YOUR_API_KEY" \
-H "Content-Type: application/json" \
-d '{
"url": "https://your-app.com/webhooks/deskforge",
"events": ["build.succeeded", "build.failed"],
"secret": "your_webhook_secret"
}'`;

const LIST = String.raw`curl -X GET https://api.deskforge.app/webhooks \
-H "Authorization: Bearer YOUR_API_KEY"`;

const DELETE = String.raw`curl -X DELETE https://api.deskforge.app/webhooks/wh_abc123 \
-H "Authorization: Bearer YOUR_API_KEY"`;

/** The page's answers, less the values only the service can know (the id, the time). */
const PAGE_WEBHOOK = {
  url: 'https://your-app.com/webhooks/deskforge',
  events: ['build.succeeded', 'build.failed'],
  active: true,
};

describe("the DeskForge page's requests, as written", () => {
  let server: TestServer;
  let account: TestAccount;
  const clock = new ManualClock();

  beforeAll(async () => {
    // The SSRF policy is on: the page's your-app.com passes because it resolves to a public address.
    server = await startTestServer({ webhook: { allowPrivateUrls: false } }, { resolve: testResolver, clock });
    account = await createAccount(server.app);
  });
  afterAll(() => server.stop());

  const run = (command: string, webhookId = 'wh_abc123') =>
    runCurl(command, { 'https://api.deskforge.app': server.origin, YOUR_API_KEY: account.apiKey, wh_abc123: webhookId });

  it('creates, lists and deletes the webhook with the answers the page shows', async () => {
    const created = await run(CREATE);
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toMatch(/^application\/json/);
    expect(created.body).toMatchObject(PAGE_WEBHOOK);
    expect(created.body.id).toMatch(/^wh_[A-Za-z0-9]{24}$/);
    expect(created.body.createdAt).toBe('2024-01-20T10:00:00.000Z');
    // The secret was sent, so it is not echoed back.
    expect(created.body).not.toHaveProperty('secret');
    expect(created.headers.get('location')).toBe(`/webhooks/${created.body.id}`);

    const listed = await run(LIST);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ webhooks: [created.body], total: 1 });

    const deleted = await run(DELETE, created.body.id);
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ id: created.body.id, deleted: true, message: 'Webhook deleted successfully' });

    expect((await run(LIST)).body).toEqual({ webhooks: [], total: 0 });
    const again = await run(DELETE, created.body.id);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: { code: 'NOT_FOUND', message: 'Webhook not found' } });
  });

  it('GET /webhooks/:webhookId answers the webhook as the list shows it', async () => {
    const created = await run(CREATE);
    const one = await rest(server.origin, 'GET', `/webhooks/${created.body.id}`, { key: account.apiKey });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(created.body);
    expect((await run(LIST)).body.webhooks[0]).toEqual(one.body);
    await run(DELETE, created.body.id);
    expect((await rest(server.origin, 'GET', `/webhooks/${created.body.id}`, { key: account.apiKey })).status).toBe(404);
  });

  it('answers a generated secret, this once, when none was sent', async () => {
    const created = await rest(server.origin, 'POST', '/webhooks', {
      key: account.apiKey,
      body: { url: 'https://your-app.com/webhooks/deskforge', events: ['build.succeeded'] },
    });
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const again = await rest(server.origin, 'GET', `/webhooks/${created.body.id}`, { key: account.apiKey });
    expect(again.body).not.toHaveProperty('secret');
    const { secret: _secret, ...shown } = created.body;
    expect(again.body).toEqual(shown);
    // `"secret": null` is an omitted secret, as in GraphQL.
    const withNull = await rest(server.origin, 'POST', '/webhooks', {
      key: account.apiKey,
      body: { url: 'https://your-app.com/webhooks/deskforge', events: ['build.failed'], secret: null },
    });
    expect(withNull.body.secret).toMatch(/^whsec_/);
  });

  it('takes description and active, folds duplicate events, and lists newest first', async () => {
    const other = await createAccount(server.app, 'Lister');
    const ids: string[] = [];
    for (const events of [['project.created'], ['build.queued', 'build.queued', 'build.started'], ['project.deleted']]) {
      const created = await rest(server.origin, 'POST', '/webhooks', {
        key: other.apiKey,
        body: { url: 'https://your-app.com/hook', events, description: `hook ${ids.length}`, active: ids.length !== 1 },
      });
      expect(created.status).toBe(201);
      ids.push(created.body.id);
      clock.advance(1000);
    }
    const listed = await rest(server.origin, 'GET', '/webhooks', { key: other.apiKey });
    expect(listed.body.total).toBe(3);
    expect(listed.body.webhooks.map((webhook: { id: string }) => webhook.id)).toEqual([...ids].reverse());
    expect(listed.body.webhooks[1]).toMatchObject({ events: ['build.queued', 'build.started'], description: 'hook 1', active: false });
  });

  it('lists every webhook of an account, past the largest GraphQL page, newest first with ties by id', async () => {
    const many = await createAccount(server.app, 'Many');
    const created = new Set<string>();
    for (let i = 0; i < 105; i += 1) {
      const { webhook } = await server.app.services.webhooks.create(many.accountId, {
        url: 'https://your-app.com/hook',
        events: [EventType.BUILD_FAILED],
      });
      created.add(webhook.id);
    }
    const listed = await rest(server.origin, 'GET', '/webhooks', { key: many.apiKey });
    expect(listed.body.total).toBe(105);
    const webhooks: Array<{ id: string; createdAt: string }> = listed.body.webhooks;
    expect(new Set(webhooks.map((webhook) => webhook.id))).toEqual(created);
    const order = webhooks.map((webhook) => `${webhook.createdAt} ${webhook.id}`);
    expect(order).toEqual([...order].sort().reverse());
  });
});
