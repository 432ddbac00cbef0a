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
    await createWebhook(server.url, account.apiKey, { url: 'http://127.0.0.1:9/a', events: ['BUILD_FAILED', 'BUILD_QUEUED'], description: 'd' });
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
    const expected = await reader.getRepository<ObjectLiteral>(entity).find({ where: { accountId }, order: { [sort]: 'DESC', id: 'DESC' } });
    expect(expected.length).toBeGreaterThan(0);
    const page = await paginate<any>(reader, entity, { accountId }, { first: 100 }, sort);
    expect(page.nodes).toEqual(expected);
    expect(page.nodes[0]).toBeInstanceOf(entity);
    expect(page.totalCount).toBe(expected.length);
  });

  it('keeps the count of the whole filtered list on later pages, and filters by lists and booleans', async () => {
    const reader = server.app.db.reader;
    const all = await paginate<Event>(reader, Event, { accountId }, { first: 2 });
    const second = await paginate<Event>(reader, Event, { accountId }, { first: 2, after: all.pageInfo.endCursor });
    expect(second.totalCount).toBe(all.totalCount);
    expect(second.nodes.map((e) => e.id)).not.toContain(all.nodes[0].id);
    const types = await paginate<Event>(reader, Event, { accountId, type: ['build.failed' as Event['type'], 'project.created' as Event['type']] }, {});
    expect(types.nodes.map((e) => e.type).sort()).toEqual(['build.failed', 'project.created']);
    const active = await paginate<Webhook>(reader, Webhook, { accountId, active: false }, {});
    expect(active.nodes.map((w) => w.url)).toEqual(['http://127.0.0.1:9/b']);
    const none = await paginate<Webhook>(reader, Webhook, { accountId: 'acc_nobody' }, {});
    expect(none).toMatchObject({ nodes: [], totalCount: 0, pageInfo: { hasNextPage: false, endCursor: null } });
  });
});
