/**
 * The only reader of `process.env`. Every option, its default and its reason live here, so a
 * deployment can be understood from this one file.
 */
export interface WebhookConfig {
  /** Per-attempt timeout, connect + response (`WEBHOOK_TIMEOUT_MS`, 10 s like GitHub). */
  timeoutMs: number;
  /** Delays before retries 1..n; the length is the retry count (`WEBHOOK_RETRY_DELAYS_MS`). */
  retryDelaysMs: number[];
  /** Attempts in flight, all webhooks together (`WEBHOOK_CONCURRENCY`). */
  concurrency: number;
  /** Attempts in flight to one webhook, so one slow endpoint holds only its share (`WEBHOOK_ENDPOINT_CONCURRENCY`). */
  endpointConcurrency: number;
  /** Consecutive finally-failed deliveries that disable a webhook (`WEBHOOK_DISABLE_AFTER_FAILURES`). */
  disableAfterFailures: number;
  /** `true` allows `http://` and loopback/private targets: development and tests only. */
  allowPrivateUrls: boolean;
  /**
   * How long finished attempts gather before one transaction stores them all (group commit). A few
   * milliseconds of latency buy far fewer SQLite commits under load.
   */
  recordWindowMs: number;
  /**
   * How long a worker holds a delivery it claimed (`WEBHOOK_LEASE_MS`, 60 s). Must exceed
   * `timeoutMs`: a lease that ran out while its attempt was still going would let another worker
   * make the same attempt. A worker that dies holds nothing longer than this.
   */
  leaseMs: number;
  /**
   * When an outcome cannot be stored (the database is locked or down), the first wait before trying
   * again and the most it grows to (doubling): bounded back-off instead of a retry every second.
   */
  recordRetry: { firstMs: number; maxMs: number };
  /**
   * How often an idle worker looks for due deliveries: work committed by other processes, retries
   * that fell due, leases that ran out. Work committed in the worker's own process starts at once.
   */
  pollMs: number;
  /**
   * Whether this process sends deliveries at all (`DESKFORGE_ROLES` has `worker`). Tests of other
   * areas turn it off so that the webhooks they create are never called.
   */
  dispatch: boolean;
}

/** What one process does (`DESKFORGE_ROLES`). */
export type Role = 'api' | 'worker';
export const ROLES: readonly Role[] = ['api', 'worker'];

export interface LimitsConfig {
  /** Largest accepted request body; larger ones get 413. */
  bodyBytes: number;
  /** Deepest accepted selection; deeper documents fail validation before execution. */
  queryDepth: number;
  /** Most aliases in one document (alias batching is an amplification attack). */
  queryAliases: number;
  /** Most nodes one operation may return: page sizes multiplied through the nesting (`operationCost`). */
  queryCost: number;
  /**
   * Webhooks one account may hold (500, API.md §3); `createWebhook` beyond is CONFLICT. Each event is
   * written as one delivery per subscribed webhook of its account, in the transaction that records
   * it, and `GET /webhooks` answers them all in one list: the cap bounds both (500 deliveries per
   * event; about 0.5 MB per list), far above what one product sends its events to.
   */
  webhooksPerAccount: number;
  /**
   * Operations one account executes at once, HTTP, WebSocket and REST together (8, API.md §3): on two
   * cores eight is already more than the machine runs in parallel, so more would only queue here
   * instead of in the database; and it leaves the readers and the pool to the other accounts.
   */
  operationsPerAccount: number;
  /**
   * How long an operation over `operationsPerAccount` waits for a turn before `RATE_LIMITED` (2 s):
   * a burst is smoothed out (a hundred quick mutations at once all pass), a flood of slow ones is refused.
   */
  operationWaitMs: number;
  /**
   * Operations of one account that may wait for a turn (100); one more is refused at once. A waiting
   * HTTP request holds only its socket: its body is read once it has its turn.
   */
  operationQueuePerAccount: number;
  /** How long one operation may run before it is stopped with `TIMEOUT` and its statements cancelled (15 s, API.md §3). */
  operationTimeoutMs: number;
  /** The largest result one operation may produce before `RESPONSE_TOO_LARGE` (10 MB, API.md §3). */
  resultBytes: number;
  /**
   * How long an HTTP connection may make no progress (nothing read, nothing sent) before it is cut
   * (30 s): a client that stops reading its answer does not hold the answer's memory any longer.
   * Twice the operation time limit, so a slow operation is never cut by it.
   */
  sendTimeoutMs: number;
  /**
   * The cost from which an operation is heavy (5,000 nodes, half the limit): it then takes one of the
   * process's turns for heavy operations. The heaviest allowed query keeps the event loop busy for
   * about a second even alone (a page of 99 × 100 deliveries with their events, 2.7 MB); lighter ones,
   * like a dashboard's page of 20 webhooks with their stats (2,020), never wait for these turns.
   */
  heavyCost: number;
  /**
   * Heavy operations the whole process runs at once (1), whichever accounts send them: more only
   * share the event loop with each other and with everyone else's requests and deliveries.
   */
  heavyOperationsAtOnce: number;
  /**
   * The share of the time heavy operations may run (0.2): after one that ran a second, the next waits
   * four. The delivery worker and every other request keep the rest of the event loop.
   */
  heavyShare: number;
  /** WebSocket connections one account may hold open at once (100, API.md §3); one more is closed with 1008. */
  liveConnectionsPerAccount: number;
}

/** Live subscriptions over WebSocket (graphql-ws). */
export interface LiveConfig {
  /** Operations (subscriptions, mostly) one connection may run at once; one more gets an error, the others go on. */
  subscriptionsPerConnection: number;
  /**
   * Messages waiting for one slow subscriber. A subscriber this far behind has its connection
   * closed (1013), so one slow reader costs bounded memory and never delays the others.
   */
  bufferSize: number;
  /** How long a new socket may stay silent before `connection_init` (then 4408). */
  connectionInitTimeoutMs: number;
  /** Interval of WebSocket pings; a socket that has not answered the last one by the next is dropped. */
  keepAliveMs: number;
}

export interface Config {
  port: number;
  /**
   * `api` serves GraphQL (HTTP and WebSocket), GraphiQL and REST; `worker` delivers webhooks (then
   * `webhook.dispatch` is true). Every process serves `/healthz` and `/metrics`.
   */
  roles: ReadonlySet<Role>;
  /** How often the feed of committed changes is read when no in-process signal came (other processes' commits). */
  feedPollMs: number;
  /** SQLite file, or `:memory:` (a temporary file that `openDatabase` removes on close). Unused with `databaseUrl`. */
  databasePath: string;
  /** A `postgres://` URL: the database is PostgreSQL there instead of SQLite (`DATABASE_URL`). */
  databaseUrl?: string;
  logLevel: string;
  webhook: WebhookConfig;
  limits: LimitsConfig;
  live: LiveConfig;
  /** How long shutdown waits for in-flight work before closing anyway. */
  shutdownGraceMs: number;
}

export const DEFAULT_DATABASE_PATH = './data/deskforge.sqlite';
/** `WEBHOOK_TIMEOUT_MS` when unset (10 s, like GitHub's); `listen` bounds each forward by it too. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

export class ConfigError extends Error {}

/** Where the database is: `databaseUrl` when set, else the SQLite file. */
export function databaseLocation(config: Pick<Config, 'databasePath' | 'databaseUrl'>): string {
  return config.databaseUrl ?? config.databasePath;
}

/**
 * `DATABASE_URL`, checked: `postgres://` or `postgresql://`, a host and a database name. The
 * message never repeats the value, which may hold a password.
 */
function databaseUrl(env: Env): string | undefined {
  const raw = env.DATABASE_URL?.trim();
  if (!raw) return undefined;
  const expected = 'DATABASE_URL must look like postgres://user:password@host:5432/database';
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${expected} (it is not a URL)`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(
      `${expected} (its scheme is "${url.protocol.replace(/:$/, '')}"; only PostgreSQL is supported, and SQLite is DATABASE_PATH)`,
    );
  }
  if (!url.hostname) throw new ConfigError(`${expected} (it has no host)`);
  if (url.pathname.replace(/^\//, '') === '') throw new ConfigError(`${expected} (it names no database)`);
  return raw;
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${name} must be true or false, got "${env[name]}"`);
}

function delays(env: Env, name: string, fallback: number[]): number[] {
  const raw = env[name];
  if (raw === undefined) return fallback;
  if (raw.trim() === '') return [];
  return raw.split(',').map((part) => {
    const value = Number(part.trim());
    if (!Number.isInteger(value) || value < 0) {
      throw new ConfigError(`${name} must be comma-separated whole milliseconds, got "${raw}"`);
    }
    return value;
  });
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function roles(env: Env): ReadonlySet<Role> {
  const raw = env.DESKFORGE_ROLES;
  if (raw === undefined || raw.trim() === '') return new Set(ROLES);
  const names = raw
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .filter((part) => part !== '');
  const unknown = names.filter((name) => !(ROLES as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new ConfigError(`DESKFORGE_ROLES must be a comma-separated list of ${ROLES.join(', ')}, got "${raw}"`);
  }
  return new Set(names as Role[]);
}

/** Reads and validates the configuration; throws `ConfigError` with the variable's name on bad input. */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info').trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const processRoles = roles(env);
  const timeoutMs = integer(env, 'WEBHOOK_TIMEOUT_MS', DEFAULT_WEBHOOK_TIMEOUT_MS, 1);
  const leaseMs = integer(env, 'WEBHOOK_LEASE_MS', 60_000, 1);
  if (leaseMs <= timeoutMs) {
    throw new ConfigError(
      `WEBHOOK_LEASE_MS (${leaseMs}) must be above WEBHOOK_TIMEOUT_MS (${timeoutMs}): a lease must outlast the attempt it covers`,
    );
  }
  return {
    port: integer(env, 'PORT', 4000, 0, 65535),
    roles: processRoles,
    feedPollMs: 50,
    databasePath: env.DATABASE_PATH?.trim() || DEFAULT_DATABASE_PATH,
    databaseUrl: databaseUrl(env),
    logLevel,
    webhook: {
      timeoutMs,
      retryDelaysMs: delays(env, 'WEBHOOK_RETRY_DELAYS_MS', [30_000, 300_000, 1_800_000]),
      concurrency: integer(env, 'WEBHOOK_CONCURRENCY', 50, 1),
      endpointConcurrency: integer(env, 'WEBHOOK_ENDPOINT_CONCURRENCY', 5, 1),
      disableAfterFailures: integer(env, 'WEBHOOK_DISABLE_AFTER_FAILURES', 15, 1),
      allowPrivateUrls: boolean(env, 'WEBHOOK_ALLOW_PRIVATE_URLS', false),
      recordWindowMs: 2,
      leaseMs,
      recordRetry: { firstMs: 1_000, maxMs: 30_000 },
      pollMs: 100,
      dispatch: processRoles.has('worker'),
    },
    limits: {
      bodyBytes: 1024 * 1024,
      queryDepth: 15,
      queryAliases: 30,
      queryCost: 10_000,
      webhooksPerAccount: 500,
      operationsPerAccount: 8,
      operationWaitMs: 2_000,
      operationQueuePerAccount: 100,
      operationTimeoutMs: 15_000,
      resultBytes: 10_000_000,
      sendTimeoutMs: 30_000,
      liveConnectionsPerAccount: 100,
      heavyCost: 5_000,
      heavyOperationsAtOnce: 1,
      heavyShare: 0.2,
    },
    live: {
      subscriptionsPerConnection: 100,
      bufferSize: 1_000,
      connectionInitTimeoutMs: 3_000,
      keepAliveMs: 12_000,
    },
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, 0),
  };
}
