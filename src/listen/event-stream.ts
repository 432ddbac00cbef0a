import { Client, CloseCode, createClient, FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { EventType } from '../events/event-type';
import { ListenedEvent } from './forwarder';
import PQueue from 'p-queue';

/** The event fields `listen` needs: `payload` is the webhook body. */
const EVENTS_SUBSCRIPTION = `subscription ListenEvents($types: [EventType!], $after: ID) {
  events(types: $types, after: $after) { id payload }
}`;
/** The account's newest event, where a first subscription starts (any type: `after` needs only a position). */
const NEWEST_EVENT = `query ListenNewestEvent { events(first: 1) { nodes { id } } }`;
/** A page of the account's events of the wanted types, newest first. */
const EVENTS_PAGE = `query ListenEventsPage($types: [EventType!], $after: String) {
  events(types: $types, first: 100, after: $after) { nodes { id payload } pageInfo { hasNextPage endCursor } }
}`;

interface EventNode {
  id: string;
  payload: { type: EventType } & Record<string, unknown>;
}

/** Close codes after which connecting again cannot help: the key is refused, or the two sides do not speak the same protocol. */
const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.Forbidden,
  CloseCode.Unauthorized,
  CloseCode.BadRequest,
  CloseCode.SubprotocolNotAcceptable,
]);

/** The stream cannot go on: the key was refused, or the service refused the subscription. */
export class StreamFatal extends Error {}

/** How a connection ended. */
interface ConnectionEnd {
  code: number;
  reason: string;
}

interface Connection {
  client: Client;
  /** False once the socket has closed. */
  isOpen(): boolean;
  /** Settles when the service accepts the key (`connection_ack`). */
  acknowledged: Promise<'acknowledged'>;
  /** Settles when the socket closes. */
  ended: Promise<ConnectionEnd>;
}

/** The GraphQL names of dotted event types (`build.succeeded` → `BUILD_SUCCEEDED`). */
const GRAPHQL_NAMES = new Map(Object.entries(EventType).map(([name, value]) => [value, name]));

/**
 * Reconnection delays: 0.5 s doubling to 15 s, each moved by up to ±20% so that the listeners of a
 * restarted service do not all come back in the same instant.
 */
export function reconnectDelayMs(failures: number, random = Math.random): number {
  return Math.round(Math.min(500 * 2 ** failures, 15_000) * (0.8 + 0.4 * random()));
}

export interface EventStreamOptions {
  /** The service's WebSocket endpoint. */
  url: URL;
  apiKey: string;
  /** The types to receive; null for all. */
  types: EventType[] | null;
  /** Handles one event; the next waits for it. Once it resolves, the event counts as forwarded. */
  handle(event: ListenedEvent): Promise<void>;
  /** The first subscription is sent: every event committed from now on will be handled. */
  onReady(): void;
  /** Connection news for a person (lost, retrying, resumed). */
  onStatus(message: string): void;
  /** The wait before connecting again after `failures` failed attempts in a row (default `reconnectDelayMs`). */
  reconnectDelayMs?: (failures: number) => number;
  /**
   * Interval of graphql-ws pings (default 10 s). A connection whose pong is `pongTimeoutMs` late
   * (default 5 s) is dropped: after a laptop slept, its socket may be dead without a close.
   */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
  /** Bound on the opening handshake and on the service's `connection_ack` (default 10 s), so a connect that hangs is retried. */
  connectTimeoutMs?: number;
}

/**
 * The account's events, in commit order, each once, across dropped connections. The first
 * subscription starts after the account's newest event, so nothing committed once it is sent is
 * missed. After a drop, it waits for the events already received to be handled, then subscribes
 * again with `after` the last one handled (API.md §7): the service replays what was committed in
 * between, then goes live. An account that had no event at the start has nothing to start or
 * resume after: its first subscription is live only (an event committed in the instant before the
 * service registers it is not seen), and after a drop with nothing handled yet the events of the
 * wanted types are read with the `events` query first (every one of them came since the start),
 * oldest first.
 */
export class EventStream {
  /** The last event handled, or the newest one at the start: where the next subscription resumes. */
  private after: string | null = null;
  /** Whether `after` has been set from the account's newest event once. */
  private anchored = false;
  private ready = false;
  private stopped = false;
  private client: Client | undefined;
  private wake: (() => void) | undefined;
  /** Events received and not yet handled, handled one at a time in arrival order. */
  private readonly handling = new PQueue({ concurrency: 1 });
  private failure: unknown;

  constructor(private readonly options: EventStreamOptions) {}

  /** Runs until `stop()` (resolves) or until it cannot go on (rejects with `StreamFatal`). */
  async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const { end, connected } = await this.connectOnce();
      await this.handling.onIdle();
      if (this.failure) throw this.failure;
      if (this.stopped) return;
      if (FATAL_CLOSE_CODES.has(end.code)) throw new StreamFatal(refusal(end));
      if (connected) failures = 0;
      const delay = (this.options.reconnectDelayMs ?? reconnectDelayMs)(failures);
      failures += 1;
      this.options.onStatus(
        `${connected ? 'connection lost' : `cannot connect to ${this.options.url.href}`} (${describe(end)}); reconnecting in ${(delay / 1000).toFixed(1)} s`,
      );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Closes the connection; `run()` resolves once the event being handled is. */
  stop(): void {
    this.stopped = true;
    this.wake?.();
    if (this.client) dispose(this.client);
  }

  /** One connection, from connecting to its close. `connected`: the service accepted the key. */
  private async connectOnce(): Promise<{ end: ConnectionEnd; connected: boolean }> {
    const connection = this.open();
    this.client = connection.client;
    if (this.stopped) dispose(connection.client);
    const opened = await Promise.race([connection.ended, connection.acknowledged]);
    if (opened !== 'acknowledged') return { end: opened, connected: false };
    let fatal: StreamFatal | undefined;
    await this.subscribe(connection).catch((error: unknown) => {
      if (error instanceof StreamFatal) fatal = error;
    });
    // The subscription is over: the socket closed, or the service ended it (then close, to resume).
    dispose(connection.client);
    const end = await connection.ended;
    if (fatal) throw fatal;
    return { end, connected: true };
  }

  /** A graphql-ws client that connects at once, never retries on its own, and drops a connection whose pongs stop. */
  private open(): Connection {
    const { keepAliveMs = 10_000, pongTimeoutMs = 5_000, connectTimeoutMs = 10_000 } = this.options;
    let lastError: string | undefined;
    let pongTimer: NodeJS.Timeout | undefined;
    let open = true;
    let acknowledge!: (value: 'acknowledged') => void;
    const acknowledged = new Promise<'acknowledged'>((resolve) => (acknowledge = resolve));
    let resolveEnd!: (end: ConnectionEnd) => void;
    const ended = new Promise<ConnectionEnd>((resolve) => (resolveEnd = resolve));
    const client = createClient({
      url: this.options.url.href,
      webSocketImpl: webSocketWithHandshakeTimeout(connectTimeoutMs),
      connectionParams: { authorization: `Bearer ${this.options.apiKey}` },
      lazy: false,
      // Reconnecting is `run()`'s: graphql-ws would resubscribe with the first `after`.
      retryAttempts: 0,
      onNonLazyError: () => {},
      connectionAckWaitTimeout: connectTimeoutMs,
      keepAlive: keepAliveMs,
      on: {
        connected: () => acknowledge('acknowledged'),
        ping: (received) => {
          if (!received) pongTimer = setTimeout(() => client.terminate(), pongTimeoutMs);
        },
        pong: (received) => {
          if (received) clearTimeout(pongTimer);
        },
        error: (error) => (lastError = errorMessage(error)),
        closed: (event) => {
          clearTimeout(pongTimer);
          open = false;
          const { code, reason } = event as ConnectionEnd;
          resolveEnd({ code, reason: reason || lastError || '' });
          // Nothing of graphql-ws's own retrying (it would on a 1000 close) may run after this.
          dispose(client);
        },
      },
    });
    return { client, isOpen: () => open, acknowledged, ended };
  }

  /** Sets `after` for this connection, then subscribes; resolves when the subscription ends. */
  private async subscribe(connection: Connection): Promise<void> {
    const { client } = connection;
    const types = this.options.types?.map((type) => GRAPHQL_NAMES.get(type)!) ?? null;
    if (!this.anchored) {
      const newest = await request<{ events: { nodes: Array<{ id: string }> } }>(client, NEWEST_EVENT, {});
      this.after = newest.events.nodes[0]?.id ?? null;
      this.anchored = true;
    } else if (this.after === null) {
      const missed = await this.eventsSinceStart(client, types);
      this.options.onStatus(`connected; the account had no event when listen started, so forwarding the ${missed.length} committed since`);
      for (const node of missed) this.receive(node);
      await this.handling.onIdle();
      if (!connection.isOpen()) return;
    } else {
      this.options.onStatus(`connected; resuming after ${this.after}`);
    }
    await new Promise<void>((resolve, reject) => {
      client.subscribe<{ events: EventNode }>(
        { query: EVENTS_SUBSCRIPTION, variables: { types, after: this.after } },
        {
          next: (result) => {
            if (result.data) this.receive(result.data.events);
            else reject(new StreamFatal(`the service refused the events subscription: ${graphqlErrors(result.errors ?? [])}`));
          },
          // A close event (not GraphQL errors) is a dropped connection: `run()` resumes.
          error: (error) =>
            Array.isArray(error)
              ? reject(new StreamFatal(`the service refused the events subscription: ${graphqlErrors(error)}`))
              : resolve(),
          complete: () => resolve(),
        },
      );
      if (!this.ready) {
        this.ready = true;
        this.options.onReady();
      }
    });
  }

  /** Every event of `types` of the account, oldest first. */
  private async eventsSinceStart(client: Client, types: string[] | null): Promise<EventNode[]> {
    const nodes: EventNode[] = [];
    let after: string | null = null;
    do {
      const page: { events: { nodes: EventNode[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await request(
        client,
        EVENTS_PAGE,
        { types, after },
      );
      nodes.push(...page.events.nodes);
      after = page.events.pageInfo.hasNextPage ? page.events.pageInfo.endCursor : null;
    } while (after !== null);
    return nodes.reverse();
  }

  /** Queues an event behind those received before it; after `stop()`, only the one in flight is finished. */
  private receive(node: EventNode): void {
    const event: ListenedEvent = { id: node.id, type: node.payload.type, body: JSON.stringify(node.payload) };
    this.handling
      .add(async () => {
        if (this.stopped) return;
        await this.options.handle(event);
        this.after = event.id;
      })
      .catch((error: unknown) => {
        // A handler that throws ends the stream: forwarding past a lost event would skip it.
        this.failure ??= error;
        this.stop();
      });
  }
}

/** The connection closed before a query's answer: not fatal, `run()` connects again. */
class ConnectionClosed extends Error {}

/** Runs one query over the connection. */
function request<T>(client: Client, query: string, variables: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    let result: FormattedExecutionResult<T, unknown> | undefined;
    const refused = (errors: ReadonlyArray<{ message: string }>) =>
      new StreamFatal(`the service refused a query: ${graphqlErrors(errors)}`);
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => (result = value),
        error: (error) => reject(Array.isArray(error) ? refused(error) : new ConnectionClosed()),
        complete: () => {
          if (result === undefined) reject(new ConnectionClosed());
          else if (result.data) resolve(result.data);
          else reject(refused(result.errors ?? []));
        },
      },
    );
  });
}

/** `ws` with a bound on the opening handshake: graphql-ws constructs its sockets itself, with no options. */
function webSocketWithHandshakeTimeout(handshakeTimeout: number) {
  return class extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { handshakeTimeout });
    }
  };
}

/** Closes the client; a connection that never opened has nothing to close. */
function dispose(client: Client): void {
  Promise.resolve(client.dispose()).catch(() => {});
}

function graphqlErrors(errors: ReadonlyArray<{ message: string; extensions?: Record<string, unknown> }>): string {
  return errors.map((error) => `${error.message}${error.extensions?.code ? ` (${error.extensions.code})` : ''}`).join('; ') || 'no data';
}

function errorMessage(error: unknown): string {
  const inner = (error as { error?: unknown; message?: unknown }).error ?? error;
  return inner instanceof Error ? inner.message : String((inner as { message?: unknown }).message ?? inner);
}

function describe(end: ConnectionEnd): string {
  return end.reason ? `${end.code}: ${end.reason}` : String(end.code);
}

function refusal(end: ConnectionEnd): string {
  if (end.code === CloseCode.Forbidden) return `the service refused the API key (${describe(end)}): check DESKFORGE_API_KEY`;
  return `the service closed the connection for good (${describe(end)})`;
}
