import { COMPLETE_BUILD, createProject, QUEUE_BUILD, START_BUILD } from '../helpers/fixtures';
import { ManualClock } from '../helpers/clock';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { sql } from '../helpers/test-database';
import { commitTogether } from '../helpers/write-group';

describe('build lifecycle', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;
  let projectId: string;
  const clock = new ManualClock();

  beforeAll(async () => {
    server = await startTestServer({}, { clock });
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
    projectId = (await createProject(server.url, acme.apiKey)).id;
  });
  afterAll(() => server.stop());

  const queue = async (input: Record<string, unknown> = {}, key = acme.apiKey) =>
    gql(server.url, QUEUE_BUILD, { input: { projectId, version: '1.0.0', platform: 'MAC', arch: 'ARM64', ...input } }, key);
  const start = (id: string, key = acme.apiKey) => gql(server.url, START_BUILD, { id }, key);
  const complete = (id: string, input: Record<string, unknown>, key = acme.apiKey) => gql(server.url, COMPLETE_BUILD, { id, input }, key);
  const eventCount = async () => (await sql(server.app.db.reader, 'SELECT count(*) AS n FROM events'))[0].n as number;
  const statusOf = async (id: string) =>
    (await gqlOk(server.url, 'query ($id: ID!) { build(id: $id) { status } }', { id }, acme.apiKey)).build.status;

  it('runs QUEUED → RUNNING → SUCCESS with times and a whole-second duration', async () => {
    const queued = (await queue({ platform: 'WINDOWS', arch: 'X64', version: '2.3.4' })).data.queueBuild;
    expect(queued).toMatchObject({
      status: 'QUEUED',
      platform: 'WINDOWS',
      arch: 'X64',
      version: '2.3.4',
      startedAt: null,
      finishedAt: null,
      duration: null,
    });
    expect(queued.id).toMatch(/^build_/);
    clock.advance(5_000);
    const started = (await start(queued.id)).data.startBuild;
    expect(started.status).toBe('RUNNING');
    clock.advance(840_400);
    const done = (await complete(queued.id, { status: 'SUCCESS', artifactUrl: 'https://cdn.example.com/app.exe' })).data.completeBuild;
    expect(done).toMatchObject({ status: 'SUCCESS', artifactUrl: 'https://cdn.example.com/app.exe', error: null, duration: 840 });
    const read = await gqlOk(
      server.url,
      'query ($id: ID!) { build(id: $id) { status duration queuedAt startedAt finishedAt project { id name } } }',
      { id: queued.id },
      acme.apiKey,
    );
    expect(read.build).toMatchObject({ status: 'SUCCESS', duration: 840, project: { id: projectId, name: 'My Desktop App' } });
    expect(Date.parse(read.build.finishedAt) - Date.parse(read.build.startedAt)).toBe(840_400);
    // A list asked only for a computed field still reads what computes it.
    const listed = await gqlOk(
      server.url,
      'query ($p: ID!) { project(id: $p) { builds(first: 100) { nodes { duration } } } }',
      { p: projectId },
      acme.apiKey,
    );
    expect(listed.project.builds.nodes).toContainEqual({ duration: 840 });
  });

  it('runs QUEUED → RUNNING → FAILED with the error', async () => {
    const id = (await queue()).data.queueBuild.id;
    await start(id);
    const failed = (await complete(id, { status: 'FAILED', error: 'codesign: identity not found' })).data.completeBuild;
    expect(failed).toMatchObject({ status: 'FAILED', error: 'codesign: identity not found', artifactUrl: null });
  });

  it('refuses every other transition with CONFLICT and changes nothing', async () => {
    const queuedId = (await queue()).data.queueBuild.id;
    const runningId = (await queue()).data.queueBuild.id;
    await start(runningId);
    const succeededId = (await queue()).data.queueBuild.id;
    await start(succeededId);
    await complete(succeededId, { status: 'SUCCESS' });
    const failedId = (await queue()).data.queueBuild.id;
    await start(failedId);
    await complete(failedId, { status: 'FAILED' });

    const before = await eventCount();
    const attempts: Array<[string, () => ReturnType<typeof gql>, string]> = [
      [queuedId, () => complete(queuedId, { status: 'SUCCESS' }), 'QUEUED'],
      [queuedId, () => complete(queuedId, { status: 'FAILED' }), 'QUEUED'],
      [runningId, () => start(runningId), 'RUNNING'],
      [succeededId, () => start(succeededId), 'SUCCESS'],
      [succeededId, () => complete(succeededId, { status: 'FAILED' }), 'SUCCESS'],
      [failedId, () => start(failedId), 'FAILED'],
      [failedId, () => complete(failedId, { status: 'SUCCESS' }), 'FAILED'],
    ];
    for (const [id, attempt, status] of attempts) {
      expect(errorOf(await attempt()).code).toBe('CONFLICT');
      expect(await statusOf(id)).toBe(status);
    }
    expect(await eventCount()).toBe(before);
  });

  it('answers build mutations committed in one write group each as if alone, in order', async () => {
    const a = (await queue()).data.queueBuild.id;
    const running = (await queue()).data.queueBuild.id;
    const failing = (await queue()).data.queueBuild.id;
    for (const id of [running, failing]) expect((await start(id)).data.startBuild.status).toBe('RUNNING');
    const before = await eventCount();
    const answers = await commitTogether(server, [
      () => queue({ version: '9.9.9' }),
      () => start(a),
      // The same build again, right behind: it sees the start before it.
      () => complete(a, { status: 'SUCCESS' }),
      () => start(running),
      () => start(a, globex.apiKey),
      () => queue({}, globex.apiKey),
      () => complete(failing, { status: 'FAILED', error: 'linker' }),
    ]);
    const [queued, started, completed, conflict, foreignBuild, foreignProject, failed] = answers;
    expect(queued.data.queueBuild).toMatchObject({ status: 'QUEUED', version: '9.9.9' });
    expect(started.data.startBuild).toMatchObject({ id: a, status: 'RUNNING' });
    expect(completed.data.completeBuild).toMatchObject({ id: a, status: 'SUCCESS' });
    expect(errorOf(conflict).code).toBe('CONFLICT');
    expect(errorOf(foreignBuild).code).toBe('NOT_FOUND');
    expect(errorOf(foreignProject).code).toBe('NOT_FOUND');
    expect(failed.data.completeBuild).toMatchObject({ id: failing, status: 'FAILED', error: 'linker' });
    expect(await statusOf(queued.data.queueBuild.id)).toBe('QUEUED');
    expect(await statusOf(a)).toBe('SUCCESS');
    expect(await statusOf(running)).toBe('RUNNING');
    expect(await eventCount()).toBe(before + 4);
  });

  it('validates completion input by field', async () => {
    const id = (await queue()).data.queueBuild.id;
    await start(id);
    expect(errorOf(await complete(id, { status: 'QUEUED' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
    expect(errorOf(await complete(id, { status: 'RUNNING' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status' });
    expect(errorOf(await complete(id, { status: 'SUCCESS', artifactUrl: 'http://cdn.example.com/x' }))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'artifactUrl',
    });
    expect(errorOf(await complete(id, { status: 'SUCCESS', artifactUrl: 'not a url' }))).toMatchObject({ field: 'artifactUrl' });
    expect(errorOf(await complete(id, { status: 'SUCCESS', error: 'nope' }))).toMatchObject({ field: 'error' });
    expect(errorOf(await complete(id, { status: 'FAILED', artifactUrl: 'https://x.example.com/a' }))).toMatchObject({
      field: 'artifactUrl',
    });
    expect(await statusOf(id)).toBe('RUNNING');
  });

  it('validates queueBuild input by field', async () => {
    expect(errorOf(await queue({ version: '' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
    expect(errorOf(await queue({ version: 'v'.repeat(101) }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'version' });
    expect(errorOf(await queue({ platform: 'AMIGA' }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'platform' });
    expect(errorOf(await queue({ projectId: 'proj_missing' })).code).toBe('NOT_FOUND');
  });

  it("keeps builds and projects of one account out of another's reach", async () => {
    const id = (await queue()).data.queueBuild.id;
    expect(errorOf(await queue({}, globex.apiKey)).code).toBe('NOT_FOUND');
    expect((await gqlOk(server.url, 'query ($id: ID!) { build(id: $id) { id } }', { id }, globex.apiKey)).build).toBeNull();
    expect(errorOf(await start(id, globex.apiKey)).code).toBe('NOT_FOUND');
    expect(errorOf(await complete(id, { status: 'FAILED' }, globex.apiKey)).code).toBe('NOT_FOUND');
    expect(await statusOf(id)).toBe('QUEUED');
  });

  it('lists a project’s builds newest first with a status filter', async () => {
    const project = await createProject(server.url, acme.apiKey, 'Listed');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1_000);
      ids.push((await queue({ projectId: project.id, version: `0.0.${i}` })).data.queueBuild.id);
    }
    await start(ids[1]);
    const data = await gqlOk(
      server.url,
      `query ($id: ID!) { project(id: $id) {
        all: builds(first: 3) { totalCount nodes { id } pageInfo { hasNextPage } }
        running: builds(status: RUNNING) { totalCount nodes { id } }
      } }`,
      { id: project.id },
      acme.apiKey,
    );
    expect(data.project.all.totalCount).toBe(5);
    expect(data.project.all.nodes.map((node: { id: string }) => node.id)).toEqual([ids[4], ids[3], ids[2]]);
    expect(data.project.all.pageInfo.hasNextPage).toBe(true);
    expect(data.project.running).toEqual({ totalCount: 1, nodes: [{ id: ids[1] }] });
  });
});
