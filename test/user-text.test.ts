import { userText } from '../src/user-text';
import { COMPLETE_BUILD, CREATE_PROJECT, CREATE_WEBHOOK, QUEUE_BUILD, START_BUILD } from './helpers/fixtures';
import { gqlOk, TestAccount } from './helpers/graphql';
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

    const updated = (await run('mutation ($id: ID!, $input: UpdateProjectInput!) { updateProject(id: $id, input: $input) { name description } }', {
      id: project.id,
      input: { name: `${LONE}!`, description: `${LONE}!` },
    })).updateProject;
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
    const artifact = (await run(COMPLETE_BUILD, { id: succeeded.id, input: { status: 'SUCCESS', artifactUrl: `https://cdn.example.com/${LONE}` } })).completeBuild;
    expect(artifact.artifactUrl).toBe(`https://cdn.example.com/${FIXED}`);
    expect((await latestPayload()).data.build.artifactUrl).toBe(`https://cdn.example.com/${FIXED}`);
  });

  it('a webhook: description and secret; an API key: its name', async () => {
    const created = (await run(CREATE_WEBHOOK, { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'], description: LONE, secret: `secret ${LONE} secret` } }))
      .createWebhook;
    expect(created.webhook.description).toBe(FIXED);
    expect(created.secret).toBe(`secret ${FIXED} secret`);
    expect(await storedRow('webhooks', created.webhook.id)).toMatchObject({ description: FIXED, secret: `secret ${FIXED} secret` });

    const key = (await run('mutation ($name: String!) { createApiKey(name: $name) { apiKey { id name } } }', { name: LONE })).createApiKey.apiKey;
    expect(key.name).toBe(FIXED);
    expect(await storedRow('api_keys', key.id)).toMatchObject({ name: FIXED });
  });
});
