import { clientId } from '../src/ids';
import { userText } from '../src/user-text';
import { COMPLETE_BUILD, CREATE_PROJECT, CREATE_WEBHOOK, QUEUE_BUILD, START_BUILD } from './helpers/fixtures';
import { errorOf, gql, gqlOk, TestAccount } from './helpers/graphql';
import { connectLiveOk } from './helpers/live-client';
import { rest } from './helpers/rest';
import { startServerWithAccount, TestServer } from './helpers/server';
import { sql } from './helpers/test-database';

/** A lone high and a lone low surrogate around a well-formed pair (which must survive). */
const LONE = 'App \ud800 \udc00 😀';
const FIXED = 'App \ufffd \ufffd 😀';

describe('userText', () => {
  it('replaces lone surrogates with U+FFFD and keeps everything else', () => {
    expect(userText(LONE)).toBe(FIXED);
    expect(userText('plain')).toBe('plain');
    expect(userText(null)).toBeNull();
    expect(userText(undefined)).toBeUndefined();
  });

  it('replaces U+0000, which PostgreSQL cannot store, with U+FFFD', () => {
    expect(userText('a\u0000b\u0000')).toBe('a\ufffdb\ufffd');
  });
});

describe('clientId', () => {
  it('leaves ids alone and turns one with U+0000 into an id that names nothing', () => {
    expect(clientId('wh_0123456789abcdef')).toBe('wh_0123456789abcdef');
    expect(clientId('wh_\u0000')).toBe('wh_\ufffd');
    expect(clientId(null)).toBeNull();
  });
});

describe('text with lone surrogates is normalized once, before it is stored or signed', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => ({ server, account } = await startServerWithAccount()));
  afterAll(() => server.stop());

  const run = (query: string, variables: Record<string, unknown> = {}) => gqlOk(server.url, query, variables, account.apiKey);
  const latestPayload = async () => (await run('{ events(first: 1) { nodes { payload } } }')).events.nodes[0].payload;
  const storedRow = async (table: string, id: string) => (await sql(server.app.db.reader, `SELECT * FROM ${table} WHERE id = ?`, [id]))[0];

  it('a project: the answer, the stored row and the project.created body agree', async () => {
    const project = (await run(CREATE_PROJECT, { input: { name: LONE, description: LONE } })).createProject;
    expect(project).toMatchObject({ name: FIXED, description: FIXED });
    expect(await storedRow('projects', project.id)).toMatchObject({ name: FIXED, description: FIXED });
    expect((await latestPayload()).data.project.name).toBe(FIXED);

    const updated = (
      await run('mutation ($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { name description } }', {
        id: project.id,
        input: { name: `${LONE}!`, description: `${LONE}!` },
      })
    ).updateProject;
    expect(updated).toEqual({ name: `${FIXED}!`, description: `${FIXED}!` });
    expect((await latestPayload()).data.project.name).toBe(`${FIXED}!`);
  });

  it('a build: version, error and artifactUrl', async () => {
    const projectId = (await run(CREATE_PROJECT, { input: { name: 'Builds' } })).createProject.id;
    const failed = (await run(QUEUE_BUILD, { input: { projectId, version: LONE, platform: 'MAC', arch: 'ARM64' } })).queueBuild;
    expect(failed.version).toBe(FIXED);
    expect((await latestPayload()).data.build.version).toBe(FIXED);
    await run(START_BUILD, { id: failed.id });
    const completed = (await run(COMPLETE_BUILD, { id: failed.id, input: { status: 'FAILED', error: LONE } })).completeBuild;
    expect(completed.error).toBe(FIXED);
    expect((await latestPayload()).data.build.error).toBe(FIXED);
    expect(await storedRow('builds', failed.id)).toMatchObject({ version: FIXED, error: FIXED });

    const succeeded = (await run(QUEUE_BUILD, { input: { projectId, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } })).queueBuild;
    await run(START_BUILD, { id: succeeded.id });
    const artifact = (
      await run(COMPLETE_BUILD, { id: succeeded.id, input: { status: 'SUCCESS', artifactUrl: `https://cdn.example.com/${LONE}` } })
    ).completeBuild;
    expect(artifact.artifactUrl).toBe(`https://cdn.example.com/${FIXED}`);
    expect((await latestPayload()).data.build.artifactUrl).toBe(`https://cdn.example.com/${FIXED}`);
  });

  it('a webhook: description and secret; an API key: its name', async () => {
    const created = (
      await run(CREATE_WEBHOOK, {
        input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'], description: LONE, secret: `secret ${LONE} secret` },
      })
    ).createWebhook;
    expect(created.webhook.description).toBe(FIXED);
    expect(created.secret).toBe(`secret ${FIXED} secret`);
    expect(await storedRow('webhooks', created.webhook.id)).toMatchObject({ description: FIXED, secret: `secret ${FIXED} secret` });

    const key = (await run('mutation ($name: String!) { createApiKey(name: $name) { apiKey { id name } } }', { name: LONE })).createApiKey
      .apiKey;
    expect(key.name).toBe(FIXED);
    expect(await storedRow('api_keys', key.id)).toMatchObject({ name: FIXED });
  });
});

/** U+0000: SQLite stores it, PostgreSQL refuses it in any parameter. Both engines must answer alike. */
describe('text, ids and cursors with U+0000 get the same answers on both engines', () => {
  const NUL = '\u0000';
  const BAD_ID = `wh_${NUL}x`;
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => ({ server, account } = await startServerWithAccount()));
  afterAll(() => server.stop());

  const run = (query: string, variables: Record<string, unknown> = {}) => gqlOk(server.url, query, variables, account.apiKey);
  const storedRow = async (table: string, id: string) => (await sql(server.app.db.reader, `SELECT * FROM ${table} WHERE id = ?`, [id]))[0];

  it('stored text: NUL becomes U+FFFD in the answer, the row and the event body', async () => {
    const project = (await run(CREATE_PROJECT, { input: { name: `a${NUL}b`, description: NUL } })).createProject;
    expect(project).toMatchObject({ name: 'a\ufffdb', description: '\ufffd' });
    expect(await storedRow('projects', project.id)).toMatchObject({ name: 'a\ufffdb', description: '\ufffd' });
    const build = (await run(QUEUE_BUILD, { input: { projectId: project.id, version: `1.0${NUL}`, platform: 'MAC', arch: 'X64' } }))
      .queueBuild;
    expect(build.version).toBe('1.0\ufffd');

    const secret = `0123456789abcdef${NUL}`;
    const webhook = (
      await run(CREATE_WEBHOOK, { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'], secret, description: NUL } })
    ).createWebhook;
    expect(webhook.secret).toBe('0123456789abcdef\ufffd');
    expect(await storedRow('webhooks', webhook.webhook.id)).toMatchObject({ secret: '0123456789abcdef\ufffd', description: '\ufffd' });

    const posted = await rest(server.origin, 'POST', '/webhooks', {
      key: account.apiKey,
      body: { url: 'https://example.com/hook', events: ['build.failed'], secret, description: NUL },
    });
    expect(posted.status).toBe(201);
    expect(await storedRow('webhooks', posted.body.id)).toMatchObject({ secret: '0123456789abcdef\ufffd' });
  });

  it.each([
    ['webhook', '{ webhook(id: $id) { id } }'],
    ['project', '{ project(id: $id) { id } }'],
    ['build', '{ build(id: $id) { id } }'],
    ['event', '{ event(id: $id) { id } }'],
    ['delivery', '{ delivery(id: $id) { id } }'],
  ])('%s(id:) with NUL is null, as for any unknown id', async (field, selection) => {
    const response = await gql(server.url, `query ($id: ID!) ${selection}`, { id: BAD_ID }, account.apiKey);
    expect(response.errors).toBeUndefined();
    expect(response.data[field]).toBeNull();
  });

  it('the same in a literal', async () => {
    const response = await gql(server.url, '{ event(id: "evt_\\u0000") { id } }', {}, account.apiKey);
    expect(response.errors).toBeUndefined();
    expect(response.data.event).toBeNull();
  });

  it.each([
    ['updateWebhook', 'updateWebhook(id: $id, input: { active: true }) { id }'],
    ['deleteWebhook', 'deleteWebhook(id: $id) { id }'],
    ['rotateWebhookSecret', 'rotateWebhookSecret(id: $id) { secret }'],
    ['testWebhook', 'testWebhook(id: $id) { id }'],
    ['recoverFailedDeliveries', 'recoverFailedDeliveries(webhookId: $id, since: "2020-01-01T00:00:00Z") { count }'],
    ['redeliver', 'redeliver(deliveryId: $id) { id }'],
    ['updateProject', 'updateProject(id: $id, input: { name: "x" }) { id }'],
    ['deleteProject', 'deleteProject(id: $id) { id }'],
    ['queueBuild', 'queueBuild(input: { projectId: $id, version: "1", platform: MAC, arch: X64 }) { id }'],
    ['startBuild', 'startBuild(id: $id) { id }'],
    ['completeBuild', 'completeBuild(id: $id, input: { status: SUCCESS }) { id }'],
    ['revokeApiKey', 'revokeApiKey(id: $id) { id }'],
  ])('%s with NUL in an id is NOT_FOUND', async (_name, selection) => {
    const response = await gql(server.url, `mutation ($id: ID!) { ${selection} }`, { id: BAD_ID }, account.apiKey);
    expect(errorOf(response).code).toBe('NOT_FOUND');
  });

  it('list filters with NUL in an id match nothing', async () => {
    const data = await run(
      'query ($id: ID!) { deliveries(webhookId: $id) { nodes { id } } byEvent: deliveries(eventId: $id) { nodes { id } } events(projectId: $id) { nodes { id } } }',
      { id: BAD_ID },
    );
    expect(data).toEqual({ deliveries: { nodes: [] }, byEvent: { nodes: [] }, events: { nodes: [] } });
  });

  it('a cursor carrying NUL is BAD_USER_INPUT on "after", as any cursor this list did not return', async () => {
    const project = (await run(CREATE_PROJECT, { input: { name: 'Cursors' } })).createProject;
    const webhook = (await run(CREATE_WEBHOOK, { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'] } })).createWebhook
      .webhook;
    const cursor = Buffer.from(JSON.stringify(['2020-01-01T00:00:00.000Z', BAD_ID])).toString('base64url');
    for (const query of [
      'query ($after: String) { webhooks(after: $after) { nodes { id } } }',
      'query ($after: String) { projects(after: $after) { nodes { id } } }',
      'query ($after: String) { events(after: $after) { nodes { id } } }',
      'query ($after: String) { deliveries(after: $after) { nodes { id } } }',
      `query ($after: String) { webhook(id: "${webhook.id}") { deliveries(after: $after) { nodes { id } } } }`,
      `query ($after: String) { project(id: "${project.id}") { builds(after: $after) { nodes { id } } } }`,
    ]) {
      const response = await gql(server.url, query, { after: cursor }, account.apiKey);
      expect({ query, ...errorOf(response) }).toMatchObject({ query, code: 'BAD_USER_INPUT', field: 'after' });
    }
  });

  it('REST: a webhook id with NUL is 404 NOT_FOUND', async () => {
    for (const method of ['GET', 'DELETE']) {
      const response = await rest(server.origin, method, '/webhooks/wh_%00x', { key: account.apiKey });
      expect({ method, status: response.status, body: response.body }).toEqual({
        method,
        status: 404,
        body: { error: expect.objectContaining({ code: 'NOT_FOUND' }) },
      });
    }
  });

  it('a subscription resuming after an id with NUL is NOT_FOUND', async () => {
    const live = await connectLiveOk(server.wsUrl, account.apiKey);
    try {
      const subscription = live.subscribe('subscription ($after: ID) { events(after: $after) { id } }', { after: `evt_${NUL}` });
      await subscription.waitForEnd();
      expect(subscription.results.flatMap((result) => result.errors ?? []).map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
    } finally {
      await live.close();
    }
  });
});
