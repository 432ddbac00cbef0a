import { createProject, QUEUE_BUILD } from '../helpers/fixtures';
import { gql, GraphQLResponse, gqlOk } from '../helpers/graphql';
import { useServerWithAccount } from '../helpers/server';
import { commitTogether } from '../helpers/write-group';
import { sql } from '../helpers/test-database';

const ROUNDS = 3;
const PROJECT_FIELDS = 'project { id name description createdAt updatedAt }';
const QUEUE_WITH_PROJECT = `mutation ($input: QueueBuildInput!) { queueBuild(input: $input) { id status ${PROJECT_FIELDS} } }`;
const START_WITH_PROJECT = `mutation ($id: ID!) { startBuild(id: $id) { id status ${PROJECT_FIELDS} } }`;
const COMPLETE_WITH_PROJECT = `mutation ($id: ID!) { completeBuild(id: $id, input: { status: SUCCESS }) { id status ${PROJECT_FIELDS} } }`;
const DELETE_PROJECT = 'mutation ($id: ID!) { deleteProject(id: $id) { id deleted } }';

/**
 * A build mutation and `deleteProject` on the build's project, sent over real HTTP and committed in
 * one group, in either order: the answer says which committed first, never an internal error.
 */
describe('build mutations racing deleteProject', () => {
  const ctx = useServerWithAccount();

  const queueOn = async (projectId: string) =>
    (
      await gqlOk(
        ctx.server.url,
        QUEUE_BUILD,
        { input: { projectId, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } },
        ctx.account.apiKey,
      )
    ).queueBuild.id as string;
  const eventsOf = async (type: string, projectId: string) =>
    (await sql(ctx.server.app.db.reader, 'SELECT count(*) AS n FROM events WHERE type = ? AND "projectId" = ?', [type, projectId]))[0]
      .n as number;

  /** `mutation` and `deleteProject`, the one named `first` queued first, committed in one group; the deletion must succeed. */
  async function race(
    first: 'mutation' | 'delete',
    projectId: string,
    mutation: string,
    variables: Record<string, unknown>,
  ): Promise<GraphQLResponse> {
    const sendMutation = () => gql(ctx.server.url, mutation, variables, ctx.account.apiKey);
    const sendDelete = () => gql(ctx.server.url, DELETE_PROJECT, { id: projectId }, ctx.account.apiKey);
    const answers = await commitTogether(ctx.server, first === 'mutation' ? [sendMutation, sendDelete] : [sendDelete, sendMutation]);
    const [answer, deletion] = first === 'mutation' ? answers : [answers[1], answers[0]];
    expect(deletion.errors).toBeUndefined();
    return answer;
  }

  const codes = (answer: GraphQLResponse) => answer.errors?.map((error) => error.extensions?.code);

  /** What committed, with the project as it was, and its event. */
  async function expectCommitted(
    answer: GraphQLResponse,
    field: string,
    project: { id: string; name: string },
    eventType: string,
  ): Promise<void> {
    expect(codes(answer)).toBeUndefined();
    expect(answer.data[field].project).toMatchObject({ id: project.id, name: project.name, description: null });
    expect(await eventsOf(eventType, project.id)).toBe(1);
  }

  /** A clear NOT_FOUND, and nothing committed. */
  async function expectRefused(answer: GraphQLResponse, project: { id: string }, eventType: string): Promise<void> {
    expect(codes(answer)).toEqual(['NOT_FOUND']);
    expect(answer.data).toBeNull();
    expect(await eventsOf(eventType, project.id)).toBe(0);
  }

  const ORDERS = ['mutation', 'delete'] as const;
  const QUEUE_INPUT = (projectId: string) => ({ input: { projectId, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } });

  /** Runs `round` for each order, ROUNDS times, on a fresh project each time. */
  async function rounds(
    label: string,
    round: (first: 'mutation' | 'delete', project: { id: string; name: string }) => Promise<void>,
  ): Promise<void> {
    for (const first of ORDERS) {
      for (let n = 0; n < ROUNDS; n += 1)
        await round(first, await createProject(ctx.server.url, ctx.account.apiKey, `${label} race ${first} ${n}`));
    }
  }

  it('startBuild answers the build with its project when it committed first, NOT_FOUND when the deletion did', async () => {
    await rounds('Start', async (first, project) => {
      const id = await queueOn(project.id);
      const answer = await race(first, project.id, START_WITH_PROJECT, { id });
      if (first === 'mutation') await expectCommitted(answer, 'startBuild', project, 'build.started');
      else await expectRefused(answer, project, 'build.started');
    });
  });

  it('completeBuild answers the build with its project when it committed first, NOT_FOUND when the deletion did', async () => {
    await rounds('Complete', async (first, project) => {
      const id = await queueOn(project.id);
      await gqlOk(ctx.server.url, 'mutation ($id: ID!) { startBuild(id: $id) { id } }', { id }, ctx.account.apiKey);
      const answer = await race(first, project.id, COMPLETE_WITH_PROJECT, { id });
      if (first === 'mutation') await expectCommitted(answer, 'completeBuild', project, 'build.succeeded');
      else await expectRefused(answer, project, 'build.succeeded');
    });
  });

  it('queueBuild answers the build with its project when it committed first, NOT_FOUND when the deletion did', async () => {
    await rounds('Queue', async (first, project) => {
      const answer = await race(first, project.id, QUEUE_WITH_PROJECT, QUEUE_INPUT(project.id));
      if (first === 'mutation') await expectCommitted(answer, 'queueBuild', project, 'build.queued');
      else await expectRefused(answer, project, 'build.queued');
    });
  });

  it('updateProject answers the updated project (its builds, read after the deletion, none) or NOT_FOUND', async () => {
    await rounds('Update', async (first, project) => {
      await queueOn(project.id);
      const name = `Renamed ${project.id}`;
      const answer = await race(
        first,
        project.id,
        'mutation ($id: ID!, $name: String!) { updateProject(id: $id, input: { name: $name }) { id name builds { totalCount } } }',
        {
          id: project.id,
          name,
        },
      );
      if (first === 'delete') return expectRefused(answer, project, 'project.updated');
      expect(codes(answer)).toBeUndefined();
      expect(answer.data.updateProject).toEqual({ id: project.id, name, builds: { totalCount: 0 } });
      expect(await eventsOf('project.updated', project.id)).toBe(1);
    });
  });

  it('build(id) answers the build with its project as read, when the project is deleted right after the build was read', async () => {
    const builds = ctx.server.app.services.builds;
    const read = builds.get.bind(builds);
    const project = await createProject(ctx.server.url, ctx.account.apiKey, 'Read race');
    const id = await queueOn(project.id);
    const spy = jest.spyOn(builds, 'get').mockImplementation(async (accountId, buildId) => {
      const build = await read(accountId, buildId);
      await ctx.server.app.services.projects.delete(accountId, project.id);
      return build;
    });
    try {
      const answer = await gql(ctx.server.url, `query ($id: ID!) { build(id: $id) { id ${PROJECT_FIELDS} } }`, { id }, ctx.account.apiKey);
      expect(codes(answer)).toBeUndefined();
      expect(answer.data.build).toMatchObject({ id, project: { id: project.id, name: project.name } });
    } finally {
      spy.mockRestore();
    }
  });

  it('a listed build whose project is deleted after the list was read answers NOT_FOUND at its project, not an internal error', async () => {
    const builds = ctx.server.app.services.builds;
    const list = builds.listForProject.bind(builds);
    const project = await createProject(ctx.server.url, ctx.account.apiKey, 'List race');
    await queueOn(project.id);
    const spy = jest.spyOn(builds, 'listForProject').mockImplementation(async (...args) => {
      const page = await list(...args);
      await ctx.server.app.services.projects.delete(args[0], project.id);
      return page;
    });
    try {
      const answer = await gql(
        ctx.server.url,
        'query ($id: ID!) { project(id: $id) { builds { nodes { id project { id } } } } }',
        { id: project.id },
        ctx.account.apiKey,
      );
      expect(codes(answer)).toEqual(['NOT_FOUND']);
      expect(answer.errors![0].path).toEqual(['project', 'builds', 'nodes', 0, 'project']);
      expect(answer.data).toEqual({ project: null });
    } finally {
      spy.mockRestore();
    }
  });
});
