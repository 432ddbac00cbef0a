import { InvalidInput } from '../errors';
import { ALL_EVENT_TYPES, EventType, isEventType } from '../events/event-type';
import { MAX_URL_LENGTH } from '../webhooks/url-policy';
import { SECRET_MAX, SECRET_MIN } from '../webhooks/webhook-secret';
import { CreateWebhookFields, DESCRIPTION_MAX } from '../webhooks/webhooks.service';
import { RestError } from './rest-errors';

/** How a body field is typed in JSON: `eventNames` is a list of dotted event names. */
export type BodyFieldKind = 'string' | 'boolean' | 'eventNames';

type KindOf<T> = T extends boolean ? 'boolean' : T extends string ? 'string' : T extends EventType[] ? 'eventNames' : never;

export interface BodyField<Kind extends BodyFieldKind = BodyFieldKind> {
  kind: Kind;
  required: boolean;
  /** For the OpenAPI document. The service enforces the rules it states. */
  description: string;
}

type BodyFields<Fields> = { [K in keyof Required<Fields>]: BodyField<KindOf<NonNullable<Fields[K]>>> };

/**
 * The JSON body of `POST /webhooks`: every field `WebhooksService.create` takes, with its JSON type
 * (checked here, as GraphQL's input coercion checks it there). Every rule beyond the type is the
 * service's. The OpenAPI document is generated from this table.
 */
export const CREATE_WEBHOOK_BODY: BodyFields<CreateWebhookFields> = {
  url: {
    kind: 'string',
    required: true,
    description: `Your endpoint: an https URL of at most ${MAX_URL_LENGTH} characters whose host is, and resolves only to, public addresses.`,
  },
  events: { kind: 'eventNames', required: true, description: 'The events to send to it: at least one; duplicates are folded.' },
  secret: {
    kind: 'string',
    required: false,
    description: `Signs every delivery: ${SECRET_MIN} to ${SECRET_MAX} characters. When omitted, one is generated (whsec_ + base64 of 32 random bytes) and answered this once.`,
  },
  description: { kind: 'string', required: false, description: `At most ${DESCRIPTION_MAX} characters.` },
  active: { kind: 'boolean', required: false, description: 'Whether events are sent to it; true when omitted.' },
};

function typed(name: string, kind: BodyFieldKind, value: unknown): unknown {
  if (kind === 'string' || kind === 'boolean') {
    if (typeof value !== kind) throw new InvalidInput(name, `"${name}" must be a ${kind}`);
    return value;
  }
  if (!Array.isArray(value)) throw new InvalidInput(name, `"${name}" must be a list of event names such as "build.succeeded"`);
  const unknown = value.find((item) => !isEventType(item));
  if (unknown !== undefined) {
    throw new InvalidInput(
      name,
      `"${name}" has an unknown event name ${JSON.stringify(unknown)}; the names are ${ALL_EVENT_TYPES.join(', ')}`,
    );
  }
  return value;
}

/** 400 BAD_REQUEST: the body is missing, empty, or JSON that is not an object. */
export function notAJsonObject(): RestError {
  return new RestError(
    400,
    'BAD_REQUEST',
    'Request body must be a JSON object such as {"url": "https://…", "events": ["build.succeeded"]}',
  );
}

/**
 * The service's input from a request body. Throws `RestError` (400 BAD_REQUEST) when the body is not
 * a JSON object, `InvalidInput` naming the field when a field is unknown, missing or of the wrong
 * type. `null` stands for an omitted optional field, as in GraphQL.
 */
export function createWebhookFields(body: unknown): CreateWebhookFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw notAJsonObject();
  const given = body as Record<string, unknown>;
  const unknownField = Object.keys(given).find((name) => !Object.hasOwn(CREATE_WEBHOOK_BODY, name));
  if (unknownField !== undefined) {
    throw new InvalidInput(
      unknownField,
      `"${unknownField}" is not a webhook field; the fields are ${Object.keys(CREATE_WEBHOOK_BODY).join(', ')}`,
    );
  }
  const fields: Record<string, unknown> = {};
  for (const [name, field] of Object.entries<BodyField>(CREATE_WEBHOOK_BODY)) {
    const value = given[name];
    if (value === undefined || value === null) {
      if (field.required) throw new InvalidInput(name, `"${name}" is required`);
    } else {
      fields[name] = typed(name, field.kind, value);
    }
  }
  // Every field was checked against its kind above, and BodyFields ties each kind to the service's type.
  return fields as unknown as CreateWebhookFields;
}
