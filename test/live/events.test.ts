import { Event } from '../../src/events/event.entity';
import { COMPLETE_BUILD, createProject, QUEUE_BUILD, START_BUILD, UPDATE_PROJECT } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { activeSubscriptions, connectLiveOk, LiveClient, waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';

const EVENTS = `subscription ($types: [EventType!], $projectId: ID) {
  events(types: $types, projectId: $projectId) {
    id type createdAt payload
    data { project { id name } build { id projectId version platform arch status artifactUrl duration error } }
  }
}`;

describe('subscription events', () => {
  let server: TestServer;
  let acme: TestAccount;
  const clients: LiveClient[] = [];
  const connect = async (key: string) => {
    const live = await connectLiveOk(server.wsUrl, key);
    clients.push(live);
    return live;
  };

  beforeAll(async () => {
    // These tests race a hundred requests of one account at once: the per-account wait is the
    // whole burst's (test/graphql/account-limits.test.ts tests the limit itself).
    server = await startTestServer({ limits: { operationWaitMs: 60_000, operationQueuePerAccount: 1_000 } });
    acme = await createAccount(server.app, 'Acme');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((live) => live.close()));
    await waitForActiveSubscriptions(server.app, 0);
  });
  afterAll(() => server.stop());

  it("streams a build's events with typed data and the webhook body as payload", async () => {
    const live = await connect(acme.apiKey);
    const sub = live.subscribe(EVENTS);
    await waitForActiveSubscriptions(server.app, 1);

    const project = await createProject(server.url, acme.apiKey, 'Desk App');
    const queued = await gqlOk(
      server.url,
      QUEUE_BUILD,
      { input: { projectId: project.id, version: '2.0.0', platform: 'WINDOWS', arch: 'X64' } },
      acme.apiKey,
    );
    const buildId = queued.queueBuild.id;
    await gqlOk(server.url, START_BUILD, { id: buildId }, acme.apiKey);
    await gqlOk(server.url, COMPLETE_BUILD, { id: buildId, input: { status: 'FAILED', error: 'linker exploded' } }, acme.apiKey);

    const events = (await sub.waitForData(4)).map((data) => data.events);
    expect(events.map((event) => event.type)).toEqual(['PROJECT_CREATED', 'BUILD_QUEUED', 'BUILD_STARTED', 'BUILD_FAILED']);
    const failed = events[3];
    expect(failed.data).toEqual({
      project: { id: project.id, name: 'Desk App' },
      build: {
        id: buildId,
        projectId: project.id,
        version: '2.0.0',
        platform: 'WINDOWS',
        arch: 'X64',
        status: 'FAILED',
        artifactUrl: null,
        duration: expect.any(Number),
        error: 'linker exploded',
      },
    });
    expect(failed.payload).toMatchObject({
      id: failed.id,
      type: 'build.failed',
      data: { build: { status: 'failed', platform: 'windows', error: 'linker exploded' } },
    });
    expect(events[0].data.build).toBeNull();
    expect(events[0].payload.data).not.toHaveProperty('build');

    // `payload` is byte for byte the stored body, which is what webhooks are signed and sent with.
    const stored = await server.app.db.dataSource.getRepository(Event).findBy({ accountId: acme.accountId });
    const bodies = new Map(stored.map((event) => [event.id, event.payload]));
    for (const event of events) expect(JSON.stringify(event.payload)).toBe(bodies.get(event.id));
    // …and what the HTTP API shows for the same event.
    const query = await gqlOk(
      server.url,
      'query ($id: ID!) { event(id: $id) { id type createdAt payload } }',
      { id: failed.id },
      acme.apiKey,
    );
    expect(query.event).toEqual({ id: failed.id, type: failed.type, createdAt: failed.createdAt, payload: failed.payload });
  });

  it('delivers 100 rapid mutations in commit order, each once', async () => {
    const project = await createProject(server.url, acme.apiKey, 'v0');
    const live = await connect(acme.apiKey);
    const sub = live.subscribe(EVENTS, { projectId: project.id });
    await waitForActiveSubscriptions(server.app, 1);

    await Promise.all(
      Array.from({ length: 100 }, (_, i) => gqlOk(server.url, UPDATE_PROJECT, { id: project.id, name: `v${i + 1}` }, acme.apiKey)),
    );

    const received = (await sub.waitForData(100)).map((data) => data.events);
    const committed = await server.app.db.dataSource
      .getRepository(Event)
      .createQueryBuilder('event')
      .where('event.projectId = :id AND event.type = :type', { id: project.id, type: 'project.updated' })
      .orderBy('event.position', 'ASC')
      .getMany();
    expect(committed).toHaveLength(100);
    expect(received.map((event) => event.id)).toEqual(committed.map((event) => event.id));
    expect(new Set(received.map((event) => event.id)).size).toBe(100);
    // The mutations raced, but each event carries the name its own transaction committed.
    expect(new Set(received.map((event) => event.data.project.name)).size).toBe(100);
    // Nothing more arrives afterwards.
    await gqlOk(server.url, UPDATE_PROJECT, { id: project.id, name: 'last' }, acme.apiKey);
    await sub.waitForData(101);
    expect(sub.data).toHaveLength(101);
  });

  it('filters by type and by project', async () => {
    const live = await connect(acme.apiKey);
    const projectA = await createProject(server.url, acme.apiKey, 'A');
    const projectB = await createProject(server.url, acme.apiKey, 'B');
    const onlyA = live.subscribe(EVENTS, { projectId: projectA.id });
    const onlyQueued = live.subscribe(EVENTS, { types: ['BUILD_QUEUED', 'PROJECT_UPDATED'] });
    const allTypes = live.subscribe(EVENTS, { types: [] });
    await waitForActiveSubscriptions(server.app, 3);

    const queue = (projectId: string) =>
      gqlOk(server.url, QUEUE_BUILD, { input: { projectId, version: '1.0.0', platform: 'LINUX', arch: 'ARM64' } }, acme.apiKey);
    const buildA = (await queue(projectA.id)).queueBuild.id;
    await gqlOk(server.url, START_BUILD, { id: buildA }, acme.apiKey);
    await queue(projectB.id);
    await gqlOk(server.url, UPDATE_PROJECT, { id: projectB.id, name: 'B2' }, acme.apiKey);

    const all = await allTypes.waitForData(4);
    expect(all.map((data) => data.events.type)).toEqual(['BUILD_QUEUED', 'BUILD_STARTED', 'BUILD_QUEUED', 'PROJECT_UPDATED']);
    await onlyQueued.waitForData(3);
    expect(onlyQueued.data.map((data) => [data.events.type, data.events.data.project.id])).toEqual([
      ['BUILD_QUEUED', projectA.id],
      ['BUILD_QUEUED', projectB.id],
      ['PROJECT_UPDATED', projectB.id],
    ]);
    await onlyA.waitForData(2);
    expect(onlyA.data.map((data) => data.events.type)).toEqual(['BUILD_QUEUED', 'BUILD_STARTED']);
    expect(onlyA.data.every((data) => data.events.data.project.id === projectA.id)).toBe(true);
  });

  it("never shows one account's events to another", async () => {
    const globex = await createAccount(server.app, 'Globex');
    const acmeLive = await connect(acme.apiKey);
    const globexLive = await connect(globex.apiKey);
    const acmeSub = acmeLive.subscribe(EVENTS);
    const globexSub = globexLive.subscribe(EVENTS);
    const acmeProject = await createProject(server.url, acme.apiKey, 'Acme App');
    // Another account's project id as a filter shows nothing either.
    const prying = globexLive.subscribe(EVENTS, { projectId: acmeProject.id });
    await waitForActiveSubscriptions(server.app, 3);

    await gqlOk(server.url, UPDATE_PROJECT, { id: acmeProject.id, name: 'Acme App 2' }, acme.apiKey);
    const globexProject = await createProject(server.url, globex.apiKey, 'Globex App');
    await gqlOk(server.url, UPDATE_PROJECT, { id: globexProject.id, name: 'Globex App 2' }, globex.apiKey);

    await globexSub.waitForData(2);
    // A marker after everything else: once Acme sees it, every earlier event has been routed.
    await gqlOk(server.url, UPDATE_PROJECT, { id: acmeProject.id, name: 'Acme App 3' }, acme.apiKey);
    await acmeSub.waitForData(3);

    expect(acmeSub.data.map((data) => data.events.data.project.name)).toEqual(['Acme App', 'Acme App 2', 'Acme App 3']);
    expect(globexSub.data.map((data) => data.events.data.project.name)).toEqual(['Globex App', 'Globex App 2']);
    expect(prying.data).toEqual([]);
    expect(prying.error).toBeUndefined();
  });

  it('stops delivering and removes the listener on unsubscribe', async () => {
    const project = await createProject(server.url, acme.apiKey, 'Unsub');
    const live = await connect(acme.apiKey);
    const kept = live.subscribe(EVENTS, { projectId: project.id });
    const dropped = live.subscribe(EVENTS, { projectId: project.id });
    await waitForActiveSubscriptions(server.app, 2);

    await gqlOk(server.url, UPDATE_PROJECT, { id: project.id, name: 'one' }, acme.apiKey);
    await dropped.waitForData(1);
    dropped.unsubscribe();
    await waitForActiveSubscriptions(server.app, 1);

    await gqlOk(server.url, UPDATE_PROJECT, { id: project.id, name: 'two' }, acme.apiKey);
    await kept.waitForData(2);
    expect(dropped.data).toHaveLength(1);
    expect(dropped.error).toBeUndefined();

    // Closing the connection ends its remaining subscriptions on the server too.
    await live.close();
    clients.splice(clients.indexOf(live), 1);
    await waitForActiveSubscriptions(server.app, 0);
    expect(await activeSubscriptions(server.app)).toBe(0);
  });
});
