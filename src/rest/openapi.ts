import { version } from '../../package.json';
import { ALL_EVENT_TYPES } from '../events/event-type';
import { BodyField, CREATE_WEBHOOK_BODY } from './webhook.input';
import { WebhookView } from './webhook.view';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });

function bodyFieldSchema({ kind, required, description }: BodyField): Schema {
  const optional = (type: string) => (required ? type : [type, 'null']);
  if (kind === 'eventNames') return { type: optional('array'), items: ref('EventName'), description };
  return { type: optional(kind), description };
}

const createWebhookRequest: Schema = {
  type: 'object',
  additionalProperties: false,
  required: Object.entries<BodyField>(CREATE_WEBHOOK_BODY)
    .filter(([, field]) => field.required)
    .map(([name]) => name),
  properties: Object.fromEntries(Object.entries<BodyField>(CREATE_WEBHOOK_BODY).map(([name, field]) => [name, bodyFieldSchema(field)])),
};

const nullableString = { type: ['string', 'null'] };
const timestamp = { type: 'string', format: 'date-time' };
const webhookProperties: { [K in keyof WebhookView]: Schema } = {
  id: { type: 'string', pattern: '^wh_', examples: ['wh_abc123'] },
  url: { type: 'string' },
  events: { type: 'array', items: ref('EventName') },
  active: { type: 'boolean' },
  description: nullableString,
  disabledReason: { ...nullableString, description: 'Why the service disabled this webhook (410 Gone, or too many failures in a row).' },
  consecutiveFailures: { type: 'integer', description: 'Deliveries in a row that ended FAILED; a success resets it.' },
  createdAt: timestamp,
  updatedAt: timestamp,
};
const webhook: Schema = { type: 'object', required: Object.keys(webhookProperties), properties: webhookProperties };

const errorCodes = [
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'NOT_FOUND',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'METHOD_NOT_ALLOWED',
  'INTERNAL_SERVER_ERROR',
];

const answer = (description: string, schema: string) => ({ description, content: json(ref(schema)) });
const errorResponse = (description: string) => answer(description, 'Error');
const unauthenticated = { $ref: '#/components/responses/Unauthenticated' };
const notFound = { $ref: '#/components/responses/NotFound' };

const webhookId = { name: 'webhookId', in: 'path', required: true, schema: { type: 'string' }, example: 'wh_abc123' };

/**
 * The OpenAPI 3.1 document of the REST endpoints, served at `GET /openapi.json`. The event names,
 * the request body and the webhook's fields come from the code that reads and writes them.
 */
export function openApiDocument({ bodyBytes }: { bodyBytes: number }): Schema {
  return {
    openapi: '3.1.0',
    info: {
      title: 'DeskForge Webhooks',
      version,
      description:
        "The DeskForge webhooks page's REST requests, over the same webhooks as the GraphQL API at /graphql. " +
        'Errors are {"error":{"code","message","field"?}} with the GraphQL error codes.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    paths: {
      '/webhooks': {
        post: {
          operationId: 'createWebhook',
          summary: 'Create a webhook',
          requestBody: { required: true, content: json(ref('CreateWebhookRequest')) },
          responses: {
            201: answer('Created. `secret` is present only when none was sent: the generated one, shown this once.', 'CreatedWebhook'),
            400: errorResponse('BAD_USER_INPUT naming the `field` that breaks a rule, or BAD_REQUEST when the body is not a JSON object'),
            401: unauthenticated,
            409: errorResponse('CONFLICT: the account already holds as many webhooks as it may (500); delete one first'),
            413: errorResponse(`PAYLOAD_TOO_LARGE: the body is over ${bodyBytes} bytes`),
          },
        },
        get: {
          operationId: 'listWebhooks',
          summary: 'Every webhook of the account, newest first',
          responses: { 200: answer('The webhooks and their number', 'WebhookList'), 401: unauthenticated },
        },
      },
      '/webhooks/{webhookId}': {
        parameters: [webhookId],
        get: {
          operationId: 'getWebhook',
          summary: 'One webhook',
          responses: { 200: answer('The webhook', 'Webhook'), 401: unauthenticated, 404: notFound },
        },
        delete: {
          operationId: 'deleteWebhook',
          summary: 'Delete a webhook; its pending deliveries end as FAILED, past ones stay as history',
          responses: { 200: answer('Deleted', 'WebhookDeletion'), 401: unauthenticated, 404: notFound },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApiDocument',
          summary: 'This document',
          security: [],
          responses: { 200: { description: 'The OpenAPI document', content: json({ type: 'object' }) } },
        },
      },
    },
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of the account: `Authorization: Bearer dfk_…`' },
      },
      responses: {
        Unauthenticated: errorResponse('UNAUTHENTICATED: no API key, or an unknown or revoked one'),
        NotFound: errorResponse("NOT_FOUND: no such webhook in this account (another account's looks the same)"),
      },
      schemas: {
        EventName: { type: 'string', enum: ALL_EVENT_TYPES, description: 'What happened, by its dotted name' },
        CreateWebhookRequest: createWebhookRequest,
        Webhook: webhook,
        CreatedWebhook: {
          ...webhook,
          properties: {
            ...webhookProperties,
            secret: { type: 'string', description: 'The generated secret; present only when none was sent' },
          },
        },
        WebhookList: {
          type: 'object',
          required: ['webhooks', 'total'],
          properties: { webhooks: { type: 'array', items: ref('Webhook') }, total: { type: 'integer' } },
        },
        WebhookDeletion: {
          type: 'object',
          required: ['id', 'deleted', 'message'],
          properties: {
            id: { type: 'string' },
            deleted: { const: true },
            message: { type: 'string', examples: ['Webhook deleted successfully'] },
          },
        },
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: errorCodes },
                message: { type: 'string' },
                field: { type: 'string', description: 'With BAD_USER_INPUT: the body field that breaks a rule' },
              },
            },
          },
        },
      },
    },
  };
}
