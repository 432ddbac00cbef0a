import { ApolloServerPlugin } from '@apollo/server';
import {
  ExecutionArgs,
  ExecutionResult,
  FormattedExecutionResult,
  GraphQLError,
  GraphQLSchema,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { CloseCode, Context, handleProtocols, makeServer, SubscribePayload } from 'graphql-ws';
import { Server } from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';
import { Viewer } from '../accounts/accounts.service';
import { LimitsConfig, LiveConfig } from '../config';
import { EventBus } from '../event-bus';
import { AccountGate } from '../graphql/account-gate';
import { budgetedExecute } from '../graphql/budgeted-execute';
import { OperationLimits } from '../graphql/operation-budget';
import { GraphQLContext, Services } from '../graphql/context';
import { createErrorFormatter } from '../graphql/error-format';
import { DocumentCache } from '../graphql/document-cache';
import { ConnectionFeed } from '../graphql/live-iterator';
import { costLimitError, HeavyOperations, operationCost, queryLimitRules } from '../graphql/query-limits';
import { createSharedSubscribe, SharedStream } from '../graphql/shared-execution';
import { Logger } from '../logger';
import { Metrics } from '../metrics';
import { viewerFromHeader } from './api-key-auth';
import { NextFrames } from './next-frames';

/** Close codes a live client may see, beyond graphql-ws's own (4400 bad message, 4408 init timeout, 4409 duplicate id). */
export const LiveCloseCode = {
  /** No key, unknown key, or the key was revoked while connected. */
  Forbidden: CloseCode.Forbidden,
  /** A subscription fell `bufferSize` messages behind; reconnect and catch up with the `events` query. */
  TooSlow: 1013,
  /** The server is shutting down. */
  GoingAway: 1001,
  /** The account already holds `liveConnectionsPerAccount` connections. */
  TooManyConnections: 1008,
} as const;

export interface LiveServerOptions {
  /** The HTTP server to share: upgrades on `/graphql` become graphql-ws connections. */
  httpServer: Server;
  schema: GraphQLSchema;
  services: Services;
  bus: EventBus;
  /** Where the position of the last published event is read (resumed subscriptions start there). */
  feed: { readonly eventPosition: number; catchUp(): Promise<void> };
  metrics: Metrics;
  logger: Logger;
  /** Each account's turns, shared with HTTP: live operations, events' executions and replays take them. */
  gate: AccountGate;
  /** Each operation's time and size (its budget). */
  operationLimits: OperationLimits;
  /** The process's turns for heavy operations, shared with HTTP. */
  heavy: HeavyOperations;
  limits: LimitsConfig;
  live: LiveConfig;
  /** How long `close()` lets clients answer the closing handshake before cutting their sockets. */
  closeGraceMs: number;
}

export interface LiveServer {
  /**
   * Stops handling upgrades and sends every connection 1001, at once; resolves when they have closed
   * (cut after `closeGraceMs`). Later calls return the same promise.
   */
  close(): Promise<void>;
}

/** One open socket; graphql-ws hands it to every hook as `ctx.extra`. */
interface LiveConnection {
  readonly socket: WebSocket;
  readonly feed: ConnectionFeed;
  /** Set once `connection_init` carried a valid key. */
  viewer?: Viewer;
}

type ConnectionParams = Record<string, unknown> | undefined;

/** Total query text of the parsed documents kept for reuse (typical subscriptions are a few hundred characters). */
const DOCUMENT_CACHE_CHARS = 256 * 1024;

const FORBIDDEN_REASON = "A valid API key is required: send connectionParams { authorization: 'Bearer <apiKey>' }";

/** `authorization` from connectionParams in any letter case: GraphiQL sends its header editor's `Authorization`. */
function authorizationParam(params: ConnectionParams): unknown {
  const name = Object.keys(params ?? {}).find((key) => key.toLowerCase() === 'authorization');
  return name === undefined ? undefined : params?.[name];
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code },
  });
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/** Pings every `intervalMs`; a socket that has not answered the previous ping by the next one is cut. */
function keepAlive(socket: WebSocket, intervalMs: number): () => void {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return () => {};
  let answered = true;
  socket.on('pong', () => {
    answered = true;
  });
  const timer = setInterval(() => {
    if (!answered) {
      socket.terminate();
      return;
    }
    answered = false;
    socket.ping();
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * graphql-ws (protocol `graphql-transport-ws`) on the HTTP server's `/graphql`. The protocol is
 * graphql-ws's own server core; this is its adapter to `ws`, written here instead of `graphql-ws/use/ws`
 * so that malformed frames are logged as structured debug lines (that adapter prints them with stack
 * traces to stderr, which any client could flood), and so that shutdown and slow readers are bounded.
 *
 * Every connection authenticates once, in `connection_init`; every operation is validated with the
 * same depth/alias rules and cost limit as HTTP and its errors formatted by the same formatter.
 * Subscriptions share their work: equal documents are parsed and validated once (`DocumentCache`,
 * the cost is checked per operation since it depends on the variables), each event is
 * executed once per group of equal subscribers (`createSharedSubscribe`), and its `next` frames are
 * written straight to the sockets with the payload serialized once (`NextFrames`).
 */
export function startLiveServer(options: LiveServerOptions): LiveServer {
  const { httpServer, schema, services, bus, feed, metrics, logger, gate, operationLimits, heavy, limits, live } = options;
  /** Open connections per account that passed `connection_init`. */
  const perAccount = new Map<string, number>();
  const formatError = createErrorFormatter(logger);
  const rules = [...specifiedRules, ...queryLimitRules(limits)];
  const connections = new Set<LiveConnection>();
  const documents = new DocumentCache(DOCUMENT_CACHE_CHARS);
  /**
   * Keys revoked while this server runs. A key revoked while its `connection_init` was being checked
   * would otherwise slip through: the check read it before the commit, the revocation found no
   * connection to close yet.
   */
  const revokedKeys = new Set<string>();

  const format = (errors: readonly GraphQLError[]) => errors.map((error) => formatError(error.toJSON(), error));

  /** Every operation goes through here: the per-connection cap, then parse and validate as over HTTP. */
  const prepare = (ctx: Context<ConnectionParams, LiveConnection>, payload: SubscribePayload): ExecutionArgs | GraphQLError[] => {
    // The operation being prepared is already counted in `ctx.subscriptions`.
    if (Object.keys(ctx.subscriptions).length > live.subscriptionsPerConnection) {
      return [badRequest(`At most ${live.subscriptionsPerConnection} operations may run at once on one connection`)];
    }
    let document = documents.get(payload.query);
    if (!document) {
      try {
        document = parse(payload.query);
      } catch (error) {
        return [withCode(error as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
      }
      const errors = validate(schema, document, rules);
      if (errors.length > 0) return errors.map((error) => withCode(error, 'GRAPHQL_VALIDATION_FAILED'));
      documents.set(payload.query, document);
    }
    // The cost depends on the variables, so a cached document is checked again.
    const cost = operationCost(schema, document, payload.operationName, payload.variables);
    const tooCostly = costLimitError(limits, cost);
    if (tooCostly) return [tooCostly];
    const contextValue: GraphQLContext = { viewer: ctx.extra.viewer ?? null, services, live: ctx.extra.feed, cost };
    return { schema, document, operationName: payload.operationName, variableValues: payload.variables, contextValue };
  };

  /** What a `next` message carries for `result`: as graphql-ws would send it, with our error formatting. */
  const payloadOf = (result: ExecutionResult): FormattedExecutionResult => {
    if (!result.errors) return result as FormattedExecutionResult;
    // Without data and without a path, the operation failed before execution: its variables did not coerce.
    // An error that already has its code (a refused turn, a stopped budget) keeps it.
    const errors = result.errors.map((error) =>
      result.data === undefined && error.path === undefined && !error.extensions?.code ? withCode(error, 'BAD_USER_INPUT') : error,
    );
    return { ...result, errors: format(errors) };
  };
  const nextFrames = new NextFrames(payloadOf);

  const server = makeServer<ConnectionParams, LiveConnection>({
    connectionInitWaitTimeout: live.connectionInitTimeoutMs,
    async onConnect(ctx) {
      const viewer = await viewerFromHeader(services.accounts, authorizationParam(ctx.connectionParams));
      if (!viewer || revokedKeys.has(viewer.apiKeyId)) {
        // graphql-ws would say only "Forbidden"; tell a person in GraphiQL what is missing.
        ctx.extra.socket.close(LiveCloseCode.Forbidden, FORBIDDEN_REASON);
        return false;
      }
      const open = perAccount.get(viewer.accountId) ?? 0;
      if (open >= limits.liveConnectionsPerAccount) {
        ctx.extra.socket.close(
          LiveCloseCode.TooManyConnections,
          `An account may hold ${limits.liveConnectionsPerAccount} live connections at once`,
        );
        return false;
      }
      perAccount.set(viewer.accountId, open + 1);
      ctx.extra.viewer = viewer;
      return true;
    },
    onSubscribe: (ctx, _id, payload) => prepare(ctx, payload),
    execute: budgetedExecute({ gate, limits: operationLimits, heavy }),
    subscribe: createSharedSubscribe(budgetedExecute({ gate, limits: operationLimits, heavy, patient: true })),
    onOperation(ctx, id, _payload, _args, result) {
      // Live subscriptions write their results straight to the socket; graphql-ws still runs the
      // operation (complete, close, errors) and waits on the stream until it ends.
      if (result instanceof SharedStream) result.pipeTo(nextFrames.sink(ctx.extra.socket, id, ctx));
    },
    onNext: (_ctx, _id, _payload, _args, result: ExecutionResult) => (result.errors ? payloadOf(result) : undefined),
    onError: (_ctx, _id, _payload, errors) => format(errors),
  });

  const wss = new WebSocketServer({ server: httpServer, path: '/graphql', maxPayload: limits.bodyBytes, handleProtocols });
  // ws re-emits the HTTP server's errors here; the HTTP side reports them.
  wss.on('error', (error) => logger.debug({ err: error }, 'WebSocket server error'));

  // ws answers protocol violations (bad frames, oversized messages) by closing the socket itself.
  const onProtocolError = (error: Error) => logger.debug({ err: error }, 'WebSocket protocol error');

  wss.on('connection', (socket, request) => {
    // Only the address: the closures below live as long as the connection, the request need not.
    const remote = request.socket.remoteAddress;
    // Every subscription of a stalled reader overflows, usually on the same event: the connection is dropped once.
    let dropped = false;
    const connection: LiveConnection = {
      socket,
      feed: new ConnectionFeed({
        bus,
        eventPosition: () => feed.eventPosition,
        catchUp: () => feed.catchUp(),
        bufferSize: live.bufferSize,
        onOverflow: () => {
          if (dropped) return;
          dropped = true;
          metrics.subscribersDropped.inc();
          logger.warn({ remote }, 'live subscriber too slow; closing its connection');
          socket.close(LiveCloseCode.TooSlow, `Too slow: a subscription fell ${live.bufferSize} events behind`);
        },
        onActiveChange: (delta) => metrics.subscriptionsActive.inc(delta),
        takeTurn: (read) => (connection.viewer ? Promise.resolve(gate.run(connection.viewer.accountId, read, true)) : read()),
      }),
    };
    connections.add(connection);
    socket.on('error', onProtocolError);
    const stopKeepAlive = keepAlive(socket, live.keepAliveMs);

    const closed = server.opened(
      {
        protocol: socket.protocol,
        // Resolves once the frame is handed to the OS, so a reader that stops reading stops pulling
        // from its subscriptions, whose bounded buffers then overflow. A socket gone is a message lost.
        send: (data) =>
          new Promise<void>((resolve) => {
            if (socket.readyState !== WebSocket.OPEN) return resolve();
            socket.send(data, () => resolve());
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', (data) => {
            // A connection being closed (shutdown, revoked key, too slow) takes no new operation.
            if (socket.readyState !== WebSocket.OPEN) return;
            handle(String(data)).catch((error: unknown) => {
              logger.error({ err: error }, 'live connection failed');
              socket.close(CloseCode.InternalServerError, 'Internal server error');
            });
          }),
      },
      connection,
    );

    socket.once('close', (code, reason) => {
      stopKeepAlive();
      connections.delete(connection);
      if (connection.viewer) {
        const open = (perAccount.get(connection.viewer.accountId) ?? 1) - 1;
        if (open > 0) perAccount.set(connection.viewer.accountId, open);
        else perAccount.delete(connection.viewer.accountId);
      }
      connection.feed.close();
      closed(code, reason.toString()).catch((error: unknown) => logger.error({ err: error }, 'live connection cleanup failed'));
    });
  });

  const unsubscribeRevocations = bus.subscribe('apiKeyRevoked', ({ apiKeyId }) => {
    revokedKeys.add(apiKeyId);
    for (const { socket, viewer } of connections) {
      if (viewer?.apiKeyId === apiKeyId) socket.close(LiveCloseCode.Forbidden, 'API key revoked');
    }
  });

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        unsubscribeRevocations();
        const allClosed = new Promise<void>((resolve) => wss.close(() => resolve()));
        for (const { socket } of connections) socket.close(LiveCloseCode.GoingAway, 'Server shutting down');
        const cut = setTimeout(() => {
          for (const { socket } of connections) socket.terminate();
        }, options.closeGraceMs);
        await allClosed;
        clearTimeout(cut);
      })()),
  };
}

/** Apollo's shutdown hook for the WebSocket side; list it before the HTTP drain so clients get a 1001 first. */
export function liveServerDrainPlugin(live: LiveServer): ApolloServerPlugin {
  return {
    async serverWillStart() {
      return { drainServer: () => live.close() };
    },
  };
}

/**
 * HTTP cannot carry a subscription's stream: refuse it with 400 before it executes, pointing to the
 * WebSocket on the same URL.
 */
export const subscriptionsOverWebSocketPlugin: ApolloServerPlugin<GraphQLContext> = {
  async requestDidStart() {
    return {
      async didResolveOperation({ operation }) {
        if (operation?.operation === 'subscription') {
          throw badRequest('Subscriptions run over WebSocket: connect to this URL with graphql-ws (protocol graphql-transport-ws)');
        }
      },
    };
  },
};
