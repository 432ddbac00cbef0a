import ipaddr from 'ipaddr.js';
import { parseArgs } from 'node:util';
import { InvalidInput } from '../errors';
import { ALL_EVENT_TYPES, EventType, foldEventTypes, isEventType } from '../events/event-type';
import { bareHostname } from '../webhooks/url-policy';
import { webhookSecretOrGenerate } from '../webhooks/webhook-secret';

/** The service `npm start` runs on a developer's machine. */
export const DEFAULT_SERVICE_URL = 'http://localhost:4000/graphql';

export const USAGE = `usage: DESKFORGE_API_KEY=dfk_… npm run --silent listen -- --forward-to <url> [options]

Forwards every event of the key's account to <url> as the webhook request a delivery makes:
same body, same headers, signed with the secret printed when it is ready.

  --forward-to <url>  where to POST each event, http:// or https:// (localhost is fine)   required
  --url <url>         the service's GraphQL endpoint (default ${DEFAULT_SERVICE_URL});
                      https:// or wss://, or http:// or ws:// to this machine only (localhost,
                      127.0.0.0/8, ::1): the API key travels in the connection
  --events <names>    only these types, dotted and comma-separated: build.succeeded,build.failed
                      (of ${ALL_EVENT_TYPES.slice(0, 4).join(', ')},
                      ${ALL_EVENT_TYPES.slice(4).join(', ')})
  --secret <secret>   sign with this secret, as a webhook's (default: a new whsec_ secret each run);
                      a development secret of your own, never a live webhook's: whatever the
                      service sends is forwarded and signed with it
  --json              one JSON object per line on stdout
  --help              this text
`;

/** The command line is wrong: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {}

export interface ListenOptions {
  apiKey: string;
  /** Where each event is POSTed. */
  forwardTo: URL;
  /** The service's WebSocket endpoint (`ws:` or `wss:`), from `--url`. */
  serviceUrl: URL;
  /** The types to forward (dotted names, distinct); null forwards every type. */
  events: EventType[] | null;
  /** Signs every forward, as a webhook's secret signs its deliveries. */
  secret: string;
  json: boolean;
}

/** `raw` as an absolute URL with one of `protocols`, or a UsageError naming `flag`. */
function urlOption(flag: string, raw: string, protocols: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${flag}: "${raw}" is not an absolute URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${flag}: "${raw}" must start with ${protocols.map((protocol) => `${protocol}//`).join(' or ')}`);
  }
  return url;
}

/** True when `url`'s host is this machine: `localhost`, 127.0.0.0/8 or ::1 (also as `::ffff:127.x.y.z`). */
function isLoopback(url: URL): boolean {
  if (url.hostname === 'localhost') return true;
  const host = bareHostname(url);
  return ipaddr.isValid(host) && ipaddr.process(host).range() === 'loopback';
}

/**
 * `--url`: the API key travels in the WebSocket's connection, so a plain `http:`/`ws:` service is
 * accepted only on this machine; anywhere else anyone on the way could read the key (and pose as
 * the service, whose events `listen` signs and forwards).
 */
function serviceUrlOption(raw: string): URL {
  const url = urlOption('--url', raw, ['http:', 'https:', 'ws:', 'wss:']);
  if ((url.protocol === 'http:' || url.protocol === 'ws:') && !isLoopback(url)) {
    throw new UsageError(
      `--url: "${raw}" would send the API key unencrypted to a host that is not this machine; use https:// (or wss://), or http:// only for localhost, 127.0.0.0/8 or ::1`,
    );
  }
  return webSocketUrl(url);
}

/** The WebSocket endpoint of a GraphQL URL: the same host and path, `http:` → `ws:`, `https:` → `wss:`. */
function webSocketUrl(url: URL): URL {
  const ws = new URL(url);
  if (url.protocol === 'http:') ws.protocol = 'ws:';
  if (url.protocol === 'https:') ws.protocol = 'wss:';
  return ws;
}

function eventsOption(raw: string): EventType[] {
  const names = raw.split(',').map((name) => name.trim());
  const unknown = names.filter((name) => !isEventType(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `--events: unknown event ${unknown.map((name) => `"${name}"`).join(', ')}; the names are ${ALL_EVENT_TYPES.join(', ')}`,
    );
  }
  return foldEventTypes(names as EventType[])!;
}

function secretOption(raw: string | undefined): string {
  try {
    return webhookSecretOrGenerate(raw);
  } catch (error) {
    if (error instanceof InvalidInput) throw new UsageError(`--secret: ${error.message}`);
    throw error;
  }
}

/**
 * Reads `listen`'s command line and environment (`DESKFORGE_API_KEY`). Returns `'help'` for
 * `--help`; throws `UsageError` for an unknown flag, a missing or malformed `--forward-to` or
 * `--url` (or a plain-text one to another machine), an unknown event name, a secret a webhook
 * could not have, or no API key.
 */
export function parseListenOptions(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ListenOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'forward-to': { type: 'string' },
        url: { type: 'string' },
        events: { type: 'string' },
        secret: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (values.help) return 'help';
  if (values['forward-to'] === undefined) throw new UsageError('--forward-to is required');
  const forwardTo = urlOption('--forward-to', values['forward-to'], ['http:', 'https:']);
  const serviceUrl = serviceUrlOption(values.url ?? DEFAULT_SERVICE_URL);
  const events = values.events === undefined ? null : eventsOption(values.events);
  const secret = secretOption(values.secret);
  const apiKey = env.DESKFORGE_API_KEY?.trim();
  if (!apiKey)
    throw new UsageError('DESKFORGE_API_KEY is not set: put an API key of the account in it (npm run --silent account:create prints one)');
  return { apiKey, forwardTo, serviceUrl, events, secret, json: values.json ?? false };
}
