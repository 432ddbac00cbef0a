import { Client, createClient, FormattedExecutionResult } from 'graphql-ws';
import { Socket } from 'node:net';
import WebSocket from 'ws';
import { App } from '../../src/app';
import { waitFor } from './wait-for';

/** How a socket closed, as the client saw it. */
export interface Closed {
  code: number;
  reason: string;
}

/** One subscription (or query) over a live client: every `next` payload, in arrival order. */
export interface LiveSubscription<T = any> {
  results: FormattedExecutionResult<T, unknown>[];
  /** `data` of every result that had some. */
  readonly data: T[];
  /** The `error` the sink got: GraphQL errors, or the close event when the socket closed under it. */
  error?: unknown;
  completed: boolean;
  /** Waits until `count` results with data have arrived; returns them. */
  waitForData(count: number, timeoutMs?: number): Promise<T[]>;
  /** Waits until the operation ended, by `complete` or `error`. */
  waitForEnd(timeoutMs?: number): Promise<void>;
  unsubscribe(): void;
}

export interface LiveClient {
  client: Client;
  /** Resolves once the socket has closed (for whatever reason). */
  closed: Promise<Closed>;
  subscribe<T = any>(query: string, variables?: Record<string, unknown>): LiveSubscription<T>;
  /** Closes the socket (1000) and waits for it. */
  close(): Promise<void>;
}

/**
 * The real graphql-ws client on `ws`, not lazy and never retrying, so tests see every close code.
 * `key` travels as `connectionParams.authorization`; `params` replaces the whole connectionParams;
 * `webSocketImpl` (default `ws`) is the class graphql-ws opens its socket with.
 */
export function connectLive(wsUrl: string, key?: string, params?: Record<string, unknown>, webSocketImpl: unknown = WebSocket): LiveClient {
  let resolveClosed!: (closed: Closed) => void;
  const closed = new Promise<Closed>((resolve) => {
    resolveClosed = resolve;
  });
  const client = createClient({
    url: wsUrl,
    webSocketImpl,
    lazy: false,
    retryAttempts: 0,
    onNonLazyError: () => {},
    connectionParams: params ?? (key ? { authorization: `Bearer ${key}` } : {}),
  });
  client.on('closed', (event) => {
    const { code, reason } = event as Closed;
    resolveClosed({ code, reason: String(reason) });
  });
  return {
    client,
    closed,
    subscribe<T>(query: string, variables?: Record<string, unknown>): LiveSubscription<T> {
      const subscription: LiveSubscription<T> = {
        results: [],
        get data() {
          return subscription.results.filter((result) => result.data).map((result) => result.data as T);
        },
        completed: false,
        waitForData: (count, timeoutMs = 10_000) =>
          waitFor(() => subscription.data.length >= count && subscription.data, {
            timeoutMs,
            what: `${count} results (have ${subscription.data.length}; error: ${JSON.stringify(subscription.error)})`,
          }),
        waitForEnd: async (timeoutMs = 10_000) => {
          await waitFor(() => subscription.completed || subscription.error !== undefined, { timeoutMs, what: 'the operation to end' });
        },
        unsubscribe: () => {},
      };
      subscription.unsubscribe = client.subscribe<T>(
        { query, variables },
        {
          next: (result) => subscription.results.push(result),
          error: (error) => {
            subscription.error = error;
          },
          complete: () => {
            subscription.completed = true;
          },
        },
      );
      return subscription;
    },
    async close() {
      await client.dispose();
      await closed;
    },
  };
}

/** Connects and waits for the server's ack; fails with the close code otherwise. */
export async function connectLiveOk(wsUrl: string, key: string, webSocketImpl?: unknown): Promise<LiveClient> {
  const live = connectLive(wsUrl, key, undefined, webSocketImpl);
  await new Promise<void>((resolve, reject) => {
    live.client.on('connected', () => resolve());
    void live.closed.then((event) => reject(new Error(`live connection closed: ${event.code} ${event.reason}`)));
  });
  return live;
}

/** A `ws` class for `connectLive` whose sockets can stop reading from TCP: a client too slow to keep up. */
export interface PausableWebSocket {
  /** A `WebSocket` subclass, for `connectLive`'s `webSocketImpl`. */
  impl: unknown;
  /** Stops reading on every socket made so far: the OS buffers fill, then the server's. */
  pause(): void;
  resume(): void;
}

export function pausableWebSocket(): PausableWebSocket {
  const sockets: WebSocket[] = [];
  class Pausable extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      sockets.push(this);
    }
  }
  // `_socket` is ws's TCP socket: the one place a WebSocket lets go of reading.
  const tcp = (socket: WebSocket) => (socket as unknown as { _socket: Socket })._socket;
  return {
    impl: Pausable,
    pause: () => sockets.forEach((socket) => tcp(socket).pause()),
    resume: () => sockets.forEach((socket) => tcp(socket).resume()),
  };
}

/** Subscriptions the app holds open right now (its `deskforge_subscriptions_active` gauge). */
export async function activeSubscriptions(app: App): Promise<number> {
  return (await app.metrics.subscriptionsActive.get()).values[0]?.value ?? 0;
}

/**
 * Waits until the server holds exactly `count` subscriptions. graphql-ws has no "subscribed" ack, so
 * a test waits for this before causing the events it expects.
 */
export async function waitForActiveSubscriptions(app: App, count: number, timeoutMs = 10_000): Promise<void> {
  await waitFor(async () => (await activeSubscriptions(app)) === count, { timeoutMs, what: `${count} active subscriptions` });
}

/** A bare WebSocket for protocol-level tests: what it received, and how it closed. */
export interface RawSocket {
  socket: WebSocket;
  messages: any[];
  closed: Promise<Closed>;
  send(message: unknown): void;
}

/** Opens a bare socket offering `protocols` (`graphql-transport-ws` unless told otherwise) and waits until it is open. */
export async function openRawSocket(
  wsUrl: string,
  protocols = ['graphql-transport-ws'],
  options: WebSocket.ClientOptions = {},
): Promise<RawSocket> {
  const socket = new WebSocket(wsUrl, protocols, options);
  const messages: any[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  socket.on('error', () => {});
  const closed = new Promise<Closed>((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused with ${response.statusCode}`)));
    void closed.then((event) => reject(new Error(`closed before opening: ${event.code}`)));
  });
  return { socket, messages, closed, send: (message) => socket.send(typeof message === 'string' ? message : JSON.stringify(message)) };
}
