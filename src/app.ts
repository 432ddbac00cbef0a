import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { randomBytes } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { AccountsService } from './accounts/accounts.service';
import { BuildsService } from './builds/builds.service';
import { Clock, systemClock } from './clock';
import { Config, databaseLocation } from './config';
import { Database, openDatabase } from './db/database';
import { redactLocation } from './db/engine';
import { appDatabaseSchema } from './db/entities';
import { DeliveriesService } from './delivery/deliveries.service';
import { defaultDispatcherParts, Dispatcher } from './delivery/dispatcher';
import { EventBus, InProcessEventBus } from './event-bus';
import { EventsService } from './events/events.service';
import { Outbox } from './events/outbox';
import { ChangeLog } from './feed/change-log';
import { SignalHub } from './feed/commit-signals';
import { FeedReader } from './feed/feed-reader';
import { databaseFeedSource, pruneChanges } from './feed/feed.queries';
import { requireApiKeyPlugin } from './graphql/auth';
import { GraphQLContext, Services } from './graphql/context';
import { AccountGate } from './graphql/account-gate';
import { HeavyGate } from './graphql/heavy-gate';
import { limitedStringify, operationBudgetPlugin } from './graphql/budget-plugin';
import { createErrorFormatter } from './graphql/error-format';
import { queryCostPlugin, queryLimitRules } from './graphql/query-limits';
import { createSchema } from './graphql/schema';
import { accountLimits, refuseGraphQL } from './http/account-limits';
import { httpErrorHandler } from './http/errors';
import { graphiqlRouter } from './http/graphiql';
import { healthRouter } from './http/health';
import { metricsRouter } from './http/metrics';
import { refuseWhenNotListening, stopAccepting } from './http/stop-accepting';
import { LiveServer, liveServerDrainPlugin, startLiveServer, subscriptionsOverWebSocketPlugin } from './http/websocket';
import { createLogger, Logger } from './logger';
import { Metrics } from './metrics';
import { ProjectsService } from './projects/projects.service';
import { restRouter } from './rest/rest.router';
import { Resolver, systemResolver } from './webhooks/url-policy';
import { WebhooksService } from './webhooks/webhooks.service';

/** What tests may replace; everything else comes from the config. */
export interface AppDependencies {
  logger?: Logger;
  clock?: Clock;
  /** DNS for the SSRF checks (tests point names at chosen addresses). */
  resolve?: Resolver;
  /** [0, 1) for the retry jitter (tests fix it). */
  random?: () => number;
}

export interface App {
  /** `http://127.0.0.1:<port>/graphql` */
  url: string;
  port: number;
  db: Database;
  bus: EventBus;
  services: Services;
  metrics: Metrics;
  logger: Logger;
  /** The delivery worker, when this process has the `worker` role. */
  dispatcher: Dispatcher | undefined;
  /** Reads what any process committed onto `bus`. */
  feed: FeedReader;
  /** Stops accepting, lets in-flight work finish (bounded by `shutdownGraceMs`), closes everything. */
  stop(): Promise<void>;
}

/** The composition root: builds every part from the config, wires them, and listens. */
export async function startApp(config: Config, deps: AppDependencies = {}): Promise<App> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? systemClock;
  const resolve = deps.resolve ?? systemResolver;
  const metrics = new Metrics();

  const db = await openDatabase(
    databaseLocation(config),
    appDatabaseSchema,
    (error) => logger.error({ err: error }, 'background database work failed (an effect after a commit, or a WAL checkpoint)'),
    { readStatementTimeoutMs: config.limits.operationTimeoutMs },
  );
  const bus = new InProcessEventBus((error) => logger.error({ err: error }, 'event listener failed'));
  const signals = new SignalHub();
  const changes = new ChangeLog(clock, signals);
  const feed = new FeedReader({
    source: databaseFeedSource(() => db.serviceReader),
    bus,
    clock,
    logger,
    pollMs: config.feedPollMs,
    readEvents: config.roles.has('api'),
    prune: {
      olderThanMs: CHANGE_RETENTION_MS,
      everyMs: 60_000,
      run: (position) => db.writes.write(({ manager }) => pruneChanges(manager, position)),
    },
  });
  signals.onEventsCommitted((events) => feed.offer(events));
  signals.onFeedChanged(() => feed.wake());
  await feed.start();
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const dispatcher = config.webhook.dispatch
    ? new Dispatcher({
        ...defaultDispatcherParts({
          db,
          changes,
          clock,
          logger,
          metrics,
          resolve,
          random: deps.random ?? Math.random,
          config: config.webhook,
          owner,
        }),
        bus,
        clock,
        logger,
        metrics,
        config: config.webhook,
        owner,
        shutdownGraceMs: config.shutdownGraceMs,
      })
    : undefined;
  const outbox = new Outbox(signals, clock, dispatcher);
  const services: Services = {
    accounts: new AccountsService(db, clock, { bus, changes }),
    webhooks: new WebhooksService(
      db,
      clock,
      { ...config.webhook, webhooksPerAccount: config.limits.webhooksPerAccount },
      resolve,
      changes,
      metrics,
    ),
    projects: new ProjectsService(db, outbox, clock),
    builds: new BuildsService(db, outbox, clock),
    events: new EventsService(db),
    deliveries: new DeliveriesService(db, clock, changes, signals),
  };
  // Other processes' commits (PostgreSQL's NOTIFY); the polls find them anyway, later.
  const stopWaking = db.onWake((signal) => (signal === 'feed' ? feed.wake() : dispatcher?.wake()));
  if (dispatcher) {
    signals.onDeliveriesDue(() => dispatcher.wake());
    signals.onFeedChanged((entries) => {
      for (const { topic, message } of entries) if (topic === 'webhook') dispatcher.forgetWebhook(message.id);
    });
  }

  const expressApp = express();
  expressApp.disable('x-powered-by');
  // No ETag on responses: hashing every GraphQL answer (a 20-node page is ~5 KB) costs each request, and
  // answers to POSTs, most of ours, are never revalidated.
  expressApp.set('etag', false);
  const httpServer: Server = createServer(expressApp);
  // A connection that makes no progress for this long is cut: a client that stops reading its answer
  // (or never finishes sending its request) holds no memory past it.
  // Cut whatever a request or response listener made of the event: nothing is waited for past it.
  httpServer.setTimeout(config.limits.sendTimeoutMs, (socket) => socket.destroy());
  expressApp.use(refuseWhenNotListening(httpServer));
  expressApp.use(healthRouter(() => db.ping()));
  expressApp.use(metricsRouter(metrics.registry));
  const api = config.roles.has('api')
    ? await mountApi({ config, db, clock, logger, metrics, services, bus, feed, expressApp, httpServer })
    : undefined;
  expressApp.use(httpErrorHandler(logger));

  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, resolveListen);
  });
  const port = (httpServer.address() as AddressInfo).port;
  // The worker starts once the process answers /healthz: a backlog never delays being healthy.
  await dispatcher?.start();
  logger.info(
    { port, database: redactLocation(databaseLocation(config)), roles: [...config.roles] },
    `listening on http://localhost:${port}/graphql`,
  );

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      const liveClosed = stopAccepting(httpServer, api?.live);
      await dispatcher?.stop();
      await liveClosed;
      await api?.stop();
      stopWaking();
      await feed.stop();
      await db.close();
      logger.info('stopped');
    })());

  return { url: `http://127.0.0.1:${port}/graphql`, port, db, bus, services, metrics, logger, dispatcher, feed, stop };
}

/** Changes are read live by every process within a poll; an hour leaves room for a slow one. */
const CHANGE_RETENTION_MS = 60 * 60 * 1000;

interface ApiParts {
  config: Config;
  db: Database;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  services: Services;
  bus: EventBus;
  feed: FeedReader;
  expressApp: express.Express;
  httpServer: Server;
}

/** The `api` role: GraphQL over HTTP and WebSocket, and GraphiQL. Returns how to stop it. */
async function mountApi(parts: ApiParts): Promise<{ live: LiveServer; stop(): Promise<void> }> {
  const { config, logger, metrics, services, bus, feed, expressApp, httpServer, db, clock } = parts;
  const schema = await createSchema();
  const { limits } = config;
  // One gate for HTTP, WebSocket and REST: an account's operations are bounded wherever they come from.
  const gate = new AccountGate({
    perAccount: limits.operationsPerAccount,
    waitMs: limits.operationWaitMs,
    maxWaiting: limits.operationQueuePerAccount,
  });
  const heavy = {
    gate: new HeavyGate({
      atOnce: limits.heavyOperationsAtOnce,
      share: limits.heavyShare,
      waitMs: limits.operationWaitMs,
      maxWaitingPerAccount: limits.operationsPerAccount,
      now: () => clock.now().getTime(),
    }),
    fromCost: limits.heavyCost,
  };
  const operationLimits = {
    timeoutMs: limits.operationTimeoutMs,
    resultBytes: limits.resultBytes,
    onTimeout: (startedAt: number) => db.cancelReadsRunningSince(startedAt),
  };
  const live = startLiveServer({
    httpServer,
    schema,
    services,
    bus,
    feed,
    metrics,
    logger,
    gate,
    operationLimits,
    heavy,
    limits,
    live: config.live,
    closeGraceMs: config.shutdownGraceMs,
  });
  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM; Apollo's own handlers would stop only Apollo and then re-raise the signal (exit 143).
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(logger),
    stringifyResult: limitedStringify(limits.resultBytes),
    validationRules: queryLimitRules(limits),
    plugins: [
      liveServerDrainPlugin(live),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Cache hints are for CDN caching of public responses; every response here is per account.
      ApolloServerPluginCacheControlDisabled(),
      requireApiKeyPlugin,
      subscriptionsOverWebSocketPlugin,
      queryCostPlugin(limits, heavy),
      operationBudgetPlugin,
    ],
  });
  await apollo.start();
  expressApp.use(graphiqlRouter());
  expressApp.use(
    '/graphql',
    accountLimits({ accounts: services.accounts, gate, limits: operationLimits, refuse: refuseGraphQL }),
    express.json({ limit: limits.bodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ res }) => ({ viewer: res.locals.viewer, services, budget: res.locals.budget }),
    }),
  );
  expressApp.use(
    '/webhooks',
    accountLimits({
      accounts: services.accounts,
      gate,
      refuse: (res, error) => res.status(429).json({ error: { code: error.code, message: error.message } }),
    }),
  );
  expressApp.use(restRouter({ services, bodyBytes: limits.bodyBytes, logger }));
  return { live, stop: () => apollo.stop() };
}
