import { CommittedEvent } from '../../src/event-bus';
import { ManualClock } from '../helpers/clock';
import { COMPLETE_BUILD, createWebhook, QUEUE_BUILD, START_BUILD } from '../helpers/fixtures';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { refuseInserts, sql } from '../helpers/test-database';

const ALL_EVENTS = [
  'BUILD_QUEUED',
  'BUILD_STARTED',
  'BUILD_SUCCEEDED',
  'BUILD_FAILED',
  'PROJECT_CREATED',
  'PROJECT_UPDATED',
  'PROJECT_DELETED',
];

describe('events and the outbox', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;
  const clock = new ManualClock(Date.parse('2024-01-20T10:00:00.000Z'));
  const published: CommittedEvent[] = [];

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
    server.app.bus.subscribe('event', (event) => published.push(event));
  });
  afterAll(() => server.stop());

  const run = (query: string, variables: Record<string, unknown> = {}, key = acme.apiKey) => gqlOk(server.url, query, variables, key);
  const storedPayload = async (id: string): Promise<string> =>
    (await sql(server.app.db.reader, 'SELECT payload FROM events WHERE id = ?', [id]))[0].payload;
  const latestEvent = async (key = acme.apiKey) =>
    (
      await run(
        '{ events(first: 1) { nodes { id type createdAt payload data { project { id name } build { id projectId version platform arch status artifactUrl duration error } } } } }',
        {},
        key,
      )
    ).events.nodes[0];

  it('stores the exact DeskForge webhook body for each of the seven changes', async () => {
    const project = (await run('mutation { createProject(input: { name: "My Desktop App", description: "Electron" }) { id } }'))
      .createProject;
    const p = project.id;
    let event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"project.created","createdAt":"2024-01-20T10:00:00.000Z","data":{"project":{"id":"${p}","name":"My Desktop App"}}}`,
    );

    clock.advance(60_000);
    const build = (await run(QUEUE_BUILD, { input: { projectId: p, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } })).queueBuild;
    const b = build.id;
    event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"build.queued","createdAt":"2024-01-20T10:01:00.000Z","data":{"build":{"id":"${b}","projectId":"${p}","version":"1.0.0","platform":"mac","arch":"arm64","status":"queued","artifactUrl":null,"duration":null},"project":{"id":"${p}","name":"My Desktop App"}}}`,
    );

    clock.advance(60_000);
    await run(START_BUILD, { id: b });
    event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"build.started","createdAt":"2024-01-20T10:02:00.000Z","data":{"build":{"id":"${b}","projectId":"${p}","version":"1.0.0","platform":"mac","arch":"arm64","status":"running","artifactUrl":null,"duration":null},"project":{"id":"${p}","name":"My Desktop App"}}}`,
    );

    clock.advance(840_000);
    await run(COMPLETE_BUILD, { id: b, input: { status: 'SUCCESS', artifactUrl: 'https://cdn.deskforge.app/builds/app.dmg' } });
    event = await latestEvent();
    const succeeded = `{"id":"${event.id}","type":"build.succeeded","createdAt":"2024-01-20T10:16:00.000Z","data":{"build":{"id":"${b}","projectId":"${p}","version":"1.0.0","platform":"mac","arch":"arm64","status":"success","artifactUrl":"https://cdn.deskforge.app/builds/app.dmg","duration":840},"project":{"id":"${p}","name":"My Desktop App"}}}`;
    expect(await storedPayload(event.id)).toBe(succeeded);
    expect(JSON.stringify(JSON.parse(succeeded))).toBe(succeeded);
    expect(event.payload).toEqual(JSON.parse(succeeded));
    expect(event.type).toBe('BUILD_SUCCEEDED');
    expect(event.data).toEqual({
      project: { id: p, name: 'My Desktop App' },
      build: {
        id: b,
        projectId: p,
        version: '1.0.0',
        platform: 'MAC',
        arch: 'ARM64',
        status: 'SUCCESS',
        artifactUrl: 'https://cdn.deskforge.app/builds/app.dmg',
        duration: 840,
        error: null,
      },
    });

    clock.advance(1_000);
    const failedBuild = (await run(QUEUE_BUILD, { input: { projectId: p, version: '1.0.1', platform: 'LINUX', arch: 'X64' } })).queueBuild
      .id;
    clock.advance(1_000);
    await run(START_BUILD, { id: failedBuild });
    clock.advance(12_000);
    await run(COMPLETE_BUILD, { id: failedBuild, input: { status: 'FAILED', error: 'tests failed' } });
    event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"build.failed","createdAt":"2024-01-20T10:16:14.000Z","data":{"build":{"id":"${failedBuild}","projectId":"${p}","version":"1.0.1","platform":"linux","arch":"x64","status":"failed","artifactUrl":null,"duration":12,"error":"tests failed"},"project":{"id":"${p}","name":"My Desktop App"}}}`,
    );

    clock.advance(1);
    await run('mutation ($id: ID!) { updateProject(id: $id, input: { name: "Renamed App" }) { id } }', { id: p });
    event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"project.updated","createdAt":"2024-01-20T10:16:14.001Z","data":{"project":{"id":"${p}","name":"Renamed App"}}}`,
    );

    clock.advance(1);
    const deleted = await run('mutation ($id: ID!) { deleteProject(id: $id) { id deleted message } }', { id: p });
    expect(deleted.deleteProject).toEqual({ id: p, deleted: true, message: 'Project deleted successfully' });
    event = await latestEvent();
    expect(await storedPayload(event.id)).toBe(
      `{"id":"${event.id}","type":"project.deleted","createdAt":"2024-01-20T10:16:14.002Z","data":{"project":{"id":"${p}","name":"Renamed App"}}}`,
    );
    expect(event.data.build).toBeNull();
    expect((await run('query ($id: ID!) { build(id: $id) { id } }', { id: b })).build).toBeNull();
    expect(await sql(server.app.db.reader, 'SELECT id FROM builds WHERE "projectId" = ?', [p])).toEqual([]);
  });

  it('creates one PENDING delivery per active subscribed webhook of the same account, published after commit', async () => {
    const all = await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/all', events: ALL_EVENTS });
    const buildsOnly = await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/builds', events: ['BUILD_QUEUED'] });
    await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/off', events: ALL_EVENTS, active: false });
    const paused = await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/paused', events: ALL_EVENTS });
    await run('mutation ($id: ID!) { updateWebhook(id: $id, input: { active: false }) { id } }', { id: paused.id });
    await createWebhook(server.url, globex.apiKey, { url: 'http://127.0.0.1:9/other-account', events: ALL_EVENTS });

    published.length = 0;
    clock.advance(1_000);
    const p = (await run('mutation { createProject(input: { name: "Hooked" }) { id } }')).createProject.id;
    clock.advance(1_000);
    const b = (await run(QUEUE_BUILD, { input: { projectId: p, version: '2.0.0', platform: 'MAC', arch: 'UNIVERSAL' } })).queueBuild.id;

    const events = (await run('{ events(first: 2) { nodes { id type } } }')).events.nodes;
    const [queued, created] = events;
    expect(queued.type).toBe('BUILD_QUEUED');
    expect(created.type).toBe('PROJECT_CREATED');
    const deliveries = async (eventId: string) =>
      (
        await run('query ($e: ID!) { deliveries(eventId: $e) { totalCount nodes { webhookId status attemptCount event { id } } } }', {
          e: eventId,
        })
      ).deliveries;
    const forCreated = await deliveries(created.id);
    expect(forCreated.nodes).toEqual([{ webhookId: all.id, status: 'PENDING', attemptCount: 0, event: { id: created.id } }]);
    const forQueued = await deliveries(queued.id);
    expect(forQueued.nodes.map((node: { webhookId: string }) => node.webhookId).sort()).toEqual([all.id, buildsOnly.id].sort());
    expect(forQueued.nodes.every((node: { status: string }) => node.status === 'PENDING')).toBe(true);

    await server.app.feed.catchUp();
    expect(published.map((event) => event.id)).toEqual([created.id, queued.id]);
    expect(published[1]).toMatchObject({ accountId: acme.accountId, type: 'build.queued', projectId: p });
    expect(published[1].payload).toBe(await storedPayload(queued.id));
    expect(published[1].position).toBeGreaterThan(published[0].position);
    expect(b).toMatch(/^build_/);

    const webhookView = await run(
      'query ($id: ID!) { webhook(id: $id) { deliveries { totalCount nodes { event { type } } } pending: deliveries(status: PENDING) { totalCount } } }',
      { id: all.id },
    );
    expect(webhookView.webhook.deliveries.totalCount).toBe(2);
    expect(webhookView.webhook.pending.totalCount).toBe(2);
    const globexDeliveries = await run('{ deliveries { totalCount } }', {}, globex.apiKey);
    expect(globexDeliveries.deliveries.totalCount).toBe(0);
  });

  it('rolls back the change, the event and the deliveries together, and publishes nothing', async () => {
    await createWebhook(server.url, acme.apiKey, { url: 'http://127.0.0.1:9/rollback', events: ALL_EVENTS });
    const allowDeliveries = await refuseInserts(
      server.app.db.dataSource,
      'deliveries',
      'fail_delivery_insert',
      'injected failure after the event insert',
      `(SELECT payload FROM events WHERE id = NEW."eventId") LIKE '%"name":"Doomed"%'`,
    );
    const count = async (table: string) => (await sql(server.app.db.reader, `SELECT count(*) AS n FROM ${table}`))[0].n as number;
    const before = { projects: await count('projects'), events: await count('events'), deliveries: await count('deliveries') };
    published.length = 0;
    try {
      const response = await gql(server.url, 'mutation { createProject(input: { name: "Doomed" }) { id } }', {}, acme.apiKey);
      expect(errorOf(response).code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(response)).not.toContain('injected failure');
      expect({ projects: await count('projects'), events: await count('events'), deliveries: await count('deliveries') }).toEqual(before);
      await server.app.feed.catchUp();
      expect(published).toEqual([]);
      const fine = await run('mutation { createProject(input: { name: "Fine" }) { id } }');
      await server.app.feed.catchUp();
      expect(published.map((event) => event.projectId)).toEqual([fine.createProject.id]);
    } finally {
      await allowDeliveries();
    }
  });

  it('pages and filters the event log, scoped to the account', async () => {
    const account = await createAccount(server.app, 'Pager');
    const key = account.apiKey;
    const a = (await run('mutation { createProject(input: { name: "A" }) { id } }', {}, key)).createProject.id;
    const bProject = (await run('mutation { createProject(input: { name: "B" }) { id } }', {}, key)).createProject.id;
    for (let i = 0; i < 24; i++) {
      clock.advance(1);
      await run(
        'mutation ($id: ID!, $n: String) { updateProject(id: $id, input: { description: $n }) { id } }',
        { id: i % 2 ? a : bProject, n: `${i}` },
        key,
      );
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const data: any = await run(
        'query ($after: String) { events(first: 10, after: $after) { totalCount nodes { id createdAt } pageInfo { hasNextPage endCursor } } }',
        { after },
        key,
      );
      expect(data.events.totalCount).toBe(26);
      seen.push(...data.events.nodes.map((node: { id: string }) => node.id));
      const times = data.events.nodes.map((node: { createdAt: string }) => node.createdAt);
      expect([...times].sort().reverse()).toEqual(times);
      if (!data.events.pageInfo.hasNextPage) break;
      after = data.events.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(26);

    const created = await run('{ events(types: [PROJECT_CREATED]) { totalCount nodes { type } } }', {}, key);
    expect(created.events.totalCount).toBe(2);
    const ofA = await run('query ($p: ID!) { events(projectId: $p, first: 100) { totalCount nodes { payload } } }', { p: a }, key);
    expect(ofA.events.totalCount).toBe(13);
    expect(ofA.events.nodes.every((node: any) => node.payload.data.project.id === a)).toBe(true);
    const both = await run('query ($p: ID!) { events(projectId: $p, types: [PROJECT_UPDATED]) { totalCount } }', { p: a }, key);
    expect(both.events.totalCount).toBe(12);

    const foreign = await run('query ($p: ID!) { events(projectId: $p) { totalCount } }', { p: a });
    expect(foreign.events.totalCount).toBe(0);
    const one = seen[0];
    expect((await run('query ($id: ID!) { event(id: $id) { id } }', { id: one }, key)).event.id).toBe(one);
    expect((await run('query ($id: ID!) { event(id: $id) { id } }', { id: one })).event).toBeNull();
  });

  it('validates project input by field', async () => {
    for (const name of ['', '   ', 'n'.repeat(201)]) {
      const response = await gql(
        server.url,
        'mutation ($n: String!) { createProject(input: { name: $n }) { id } }',
        { n: name },
        acme.apiKey,
      );
      expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    }
    const longest = await run('mutation ($n: String!) { createProject(input: { name: $n }) { name } }', { n: 'n'.repeat(200) });
    expect(longest.createProject.name).toHaveLength(200);
    const missing = await gql(server.url, 'mutation { updateProject(id: "proj_nope", input: { name: "x" }) { id } }', {}, acme.apiKey);
    expect(errorOf(missing).code).toBe('NOT_FOUND');
    const foreign = (await run('mutation { createProject(input: { name: "Theirs" }) { id } }', {}, globex.apiKey)).createProject.id;
    for (const mutation of [
      'mutation ($id: ID!) { updateProject(id: $id, input: { name: "Mine now" }) { id } }',
      'mutation ($id: ID!) { deleteProject(id: $id) { id } }',
    ]) {
      expect(errorOf(await gql(server.url, mutation, { id: foreign }, acme.apiKey)).code).toBe('NOT_FOUND');
    }
    expect((await run('query ($id: ID!) { project(id: $id) { name } }', { id: foreign }, globex.apiKey)).project.name).toBe('Theirs');
    expect((await run('query ($id: ID!) { project(id: $id) { name } }', { id: foreign })).project).toBeNull();
  });
});
