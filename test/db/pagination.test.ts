import { ObjectLiteral } from 'typeorm';
import { Build } from '../../src/builds/build.entity';
import { paginate } from '../../src/db/pagination';
import { Delivery } from '../../src/delivery/delivery.entity';
import { Event } from '../../src/events/event.entity';
import { Project } from '../../src/projects/project.entity';
import { Webhook } from '../../src/webhooks/webhook.entity';
import { createProject, createWebhook, runBuild } from '../helpers/fixtures';
import { createAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

describe('paginate', () => {
  let server: TestServer;
  let accountId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const account = await createAccount(server.app);
    accountId = account.accountId;
    await createWebhook(server.url, account.apiKey, {
      url: 'http://127.0.0.1:9/a',
      events: ['BUILD_FAILED', 'BUILD_QUEUED'],
      description: 'd',
    });
    await createWebhook(server.url, account.apiKey, { url: 'http://127.0.0.1:9/b', events: ['PROJECT_CREATED'], active: false });
    const project = await createProject(server.url, account.apiKey);
    await runBuild(server.url, account.apiKey, project.id);
    await runBuild(server.url, account.apiKey, project.id, { status: 'FAILED', error: 'boom' });
  });
  afterAll(() => server.stop());

  it.each([
    ['webhooks', Webhook, 'createdAt'],
    ['projects', Project, 'createdAt'],
    ['builds', Build, 'queuedAt'],
    ['events', Event, 'createdAt'],
    ['deliveries', Delivery, 'createdAt'],
  ] as const)('hydrates %s exactly as TypeORM does', async (_name, entity, sort) => {
    const reader = server.app.db.reader;
    const expected = await reader
      .getRepository<ObjectLiteral>(entity)
      .find({ where: { accountId }, order: { [sort]: 'DESC', id: 'DESC' } });
    expect(expected.length).toBeGreaterThan(0);
    const page = await paginate<any>(reader, entity, { accountId }, { first: 100 }, sort);
    expect(page.nodes).toEqual(expected);
    expect(page.nodes[0]).toBeInstanceOf(entity);
    expect(await page.totalCount()).toBe(expected.length);
  });

  it('keeps the count of the whole filtered list on later pages, and filters by lists and booleans', async () => {
    const reader = server.app.db.reader;
    const all = await paginate<Event>(reader, Event, { accountId }, { first: 2 });
    const second = await paginate<Event>(reader, Event, { accountId }, { first: 2, after: all.pageInfo.endCursor });
    expect(await second.totalCount()).toBe(await all.totalCount());
    expect(second.nodes.map((e) => e.id)).not.toContain(all.nodes[0].id);
    const types = await paginate<Event>(
      reader,
      Event,
      { accountId, type: ['build.failed' as Event['type'], 'project.created' as Event['type']] },
      {},
    );
    expect(types.nodes.map((e) => e.type).sort()).toEqual(['build.failed', 'project.created']);
    const active = await paginate<Webhook>(reader, Webhook, { accountId, active: false }, {});
    expect(active.nodes.map((w) => w.url)).toEqual(['http://127.0.0.1:9/b']);
    const none = await paginate<Webhook>(reader, Webhook, { accountId: 'acc_nobody' }, {});
    expect(none).toMatchObject({ nodes: [], pageInfo: { hasNextPage: false, endCursor: null } });
    expect(await none.totalCount()).toBe(0);
  });

  it('reads only the selected columns (plus id and sort), and every column when a name is not a column', async () => {
    const reader = server.app.db.reader;
    const full = await paginate<Webhook>(reader, Webhook, { accountId }, {});
    const lean = await paginate<Webhook>(reader, Webhook, { accountId }, {}, 'createdAt', new Set(['url', 'events']));
    expect(lean.nodes.map((w) => ({ id: w.id, createdAt: w.createdAt, url: w.url, events: w.events }))).toEqual(
      full.nodes.map((w) => ({ id: w.id, createdAt: w.createdAt, url: w.url, events: w.events })),
    );
    expect(lean.nodes[0].secret).toBeUndefined();
    expect(lean.nodes[0].description).toBeUndefined();
    expect(lean.pageInfo).toEqual(full.pageInfo);
    expect(await lean.totalCount()).toBe(await full.totalCount());
    const computed = await paginate<Webhook>(reader, Webhook, { accountId }, {}, 'createdAt', new Set(['url', 'deliveries']));
    expect(computed.nodes).toEqual(full.nodes);
  });

  it('answers the same from a kept statement, with new parameters, after a write', async () => {
    const reader = server.app.db.reader;
    const before = await paginate<Webhook>(reader, Webhook, { accountId }, { first: 1 });
    const other = await paginate<Webhook>(reader, Webhook, { accountId: 'acc_nobody' }, { first: 1 });
    expect(await other.totalCount()).toBe(0);
    const account = await createAccount(server.app);
    await createWebhook(server.url, account.apiKey, { url: 'http://127.0.0.1:9/c', events: ['BUILD_FAILED'] });
    const theirs = await paginate<Webhook>(server.app.db.reader, Webhook, { accountId: account.accountId }, { first: 1 });
    expect(theirs.nodes.map((w) => w.url)).toEqual(['http://127.0.0.1:9/c']);
    const again = await paginate<Webhook>(reader, Webhook, { accountId }, { first: 1 });
    expect(again.nodes).toEqual(before.nodes);
  });
});
