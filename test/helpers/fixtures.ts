import { gqlOk } from './graphql';

/** GraphQL documents the tests share. */
export const CREATE_WEBHOOK = `mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) { secret webhook { id url events active description disabledReason consecutiveFailures createdAt updatedAt } }
}`;

export const CREATE_PROJECT = `mutation ($input: CreateProjectInput!) { createProject(input: $input) { id name description createdAt updatedAt } }`;

export const UPDATE_PROJECT = `mutation ($id: ID!, $name: String!) { updateProject(id: $id, input: { name: $name }) { id } }`;

export const QUEUE_BUILD = `mutation ($input: QueueBuildInput!) {
  queueBuild(input: $input) { id status version platform arch queuedAt startedAt finishedAt duration artifactUrl error }
}`;

export const START_BUILD = `mutation ($id: ID!) { startBuild(id: $id) { id status startedAt } }`;

export const COMPLETE_BUILD = `mutation ($id: ID!, $input: CompleteBuildInput!) {
  completeBuild(id: $id, input: $input) { id status artifactUrl error duration finishedAt }
}`;

export async function createWebhook(
  url: string,
  key: string,
  input: { url: string; events: string[]; secret?: string; active?: boolean; description?: string },
): Promise<{ id: string; secret: string }> {
  const data = await gqlOk(url, CREATE_WEBHOOK, { input }, key);
  return { id: data.createWebhook.webhook.id, secret: data.createWebhook.secret };
}

export async function createProject(url: string, key: string, name = 'My Desktop App'): Promise<{ id: string; name: string }> {
  const data = await gqlOk(url, CREATE_PROJECT, { input: { name } }, key);
  return data.createProject;
}

/** Queues, starts and completes a build; returns the build id. */
export async function runBuild(
  url: string,
  key: string,
  projectId: string,
  outcome: { status: 'SUCCESS' | 'FAILED'; artifactUrl?: string; error?: string } = {
    status: 'SUCCESS',
    artifactUrl: 'https://cdn.example.com/app.dmg',
  },
): Promise<string> {
  const queued = await gqlOk(url, QUEUE_BUILD, { input: { projectId, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } }, key);
  const id = queued.queueBuild.id as string;
  await gqlOk(url, START_BUILD, { id }, key);
  await gqlOk(url, COMPLETE_BUILD, { id, input: outcome }, key);
  return id;
}
