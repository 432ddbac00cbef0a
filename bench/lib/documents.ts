/** The GraphQL documents the bench sends (names from the public contract, API.md). */
export const ALL_EVENT_TYPES = [
  'BUILD_QUEUED',
  'BUILD_STARTED',
  'BUILD_SUCCEEDED',
  'BUILD_FAILED',
  'PROJECT_CREATED',
  'PROJECT_UPDATED',
  'PROJECT_DELETED',
];

export const CREATE_WEBHOOK = `mutation ($input: CreateWebhookInput!) { createWebhook(input: $input) { secret webhook { id } } }`;

export const CREATE_PROJECT = `mutation ($input: CreateProjectInput!) { createProject(input: $input) { id } }`;

export const QUEUE_BUILD = `mutation ($input: QueueBuildInput!) { queueBuild(input: $input) { id } }`;

export const START_BUILD = `mutation ($id: ID!) { startBuild(id: $id) { id } }`;

export const COMPLETE_BUILD = `mutation ($id: ID!, $input: CompleteBuildInput!) { completeBuild(id: $id, input: $input) { id } }`;

/** What a dashboard lists: the first page of webhooks. */
export const WEBHOOKS_PAGE = `query { webhooks(first: 20) { totalCount nodes { id url events active description createdAt } } }`;

/** What a live dashboard follows: every event of the account, with the fields it shows. */
export const EVENTS_SUBSCRIPTION = `subscription { events { id type createdAt data { project { id name } build { id version platform arch status } } } }`;
