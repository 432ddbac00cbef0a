import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { AccountsService } from './accounts/accounts.service';
import { BuildsService } from './builds/builds.service';
import { Clock, systemClock } from './clock';
import { Config } from './config';
import { Database, openDatabase } from './db/database';
import { DeliveriesService } from './delivery/deliveries.service';
import { Dispatcher } from './delivery/dispatcher';
import { EventBus, InProcessEventBus } from './events/event-bus';
import { EventsService } from './events/events.service';
import { Outbox } from './events/outbox';
import { requireApiKeyPlugin, viewerFromHeader } from './graphql/auth';
import { GraphQLContext, Services } from './graphql/context';
import { createErrorFormatter } from './graphql/error-format';
import { queryLimitRules } from './graphql/query-limits';
import { createSchema } from './graphql/schema';
import { httpErrorHandler } from './http/errors';
import { graphiqlRouter } from './http/graphiql';
import { healthRouter } from './http/health';
import { metricsRouter } from './http/metrics';
import { refuseWhenNotListening, stopAccepting } from './http/stop-accepting';
import { liveServerDrainPlugin, startLiveServer, subscriptionsOverWebSocketPlugin } from './http/websocket';
import { createLogger, Logger } from './logger';
import { Metrics } from './metrics';
import { ProjectsService } from './projects/projects.service';
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
  /** The delivery engine: sends pending deliveries. */
  dispatcher: Dispatcher;
  /** Stops accepting, lets in-flight work finish (bounded by `shutdownGraceMs`), closes everything. */
  stop(): Promise<void>;
}

/** The composition root: builds every part from the config, wires them, and listens. */
export async function startApp(config: Config, deps: AppDependencies = {}): Promise<App> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? systemClock;
  const resolve = deps.resolve ?? systemResolver;
  const metrics = new Metrics();

  const db = await openDatabase(config.databasePath, (error) => logger.error({ err: error }, 'post-commit effect failed'));
  const bus = new InProcessEventBus((error) => logger.error({ err: error }, 'event listener failed'));
  const outbox = new Outbox(bus, clock);
  const services: Services = {
    accounts: new AccountsService(db, clock, bus),
    webhooks: new WebhooksService(db, clock, config.webhook, resolve, bus),
    projects: new ProjectsService(db, outbox, clock),
    builds: new BuildsService(db, outbox, clock),
    events: new EventsService(db),
    deliveries: new DeliveriesService(db, clock, bus),
  };
  const dispatcher = new Dispatcher({
    db,
    bus,
    clock,
    logger,
    metrics,
    resolve,
    random: deps.random ?? Math.random,
    config: config.webhook,
    shutdownGraceMs: config.shutdownGraceMs,
  });
  if (config.webhook.dispatch) await dispatcher.start();

  const expressApp = express();
  expressApp.disable('x-powered-by');
  const httpServer: Server = createServer(expressApp);
  const schema = await createSchema();
  const live = startLiveServer({ httpServer, schema, services, bus, metrics, logger, limits: config.limits, live: config.live, closeGraceMs: config.shutdownGraceMs });

  const apollo = new ApolloServer<GraphQLContext>({
    schema,
    introspection: true,
    includeStacktraceInErrorResponses: false,
    // main.ts owns SIGINT/SIGTERM; Apollo's own handlers would stop only Apollo and then re-raise the signal (exit 143).
    stopOnTerminationSignals: false,
    formatError: createErrorFormatter(logger),
    validationRules: queryLimitRules(config.limits),
    plugins: [
      liveServerDrainPlugin(live),
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Cache hints are for CDN caching of public responses; every response here is per account.
      ApolloServerPluginCacheControlDisabled(),
      requireApiKeyPlugin,
      subscriptionsOverWebSocketPlugin,
    ],
  });
  await apollo.start();

  expressApp.use(refuseWhenNotListening(httpServer));
  expressApp.use(healthRouter(() => db.ping()));
  expressApp.use(metricsRouter(metrics.registry));
  expressApp.use(graphiqlRouter());
  expressApp.use(
    '/graphql',
    express.json({ limit: config.limits.bodyBytes }),
    expressMiddleware(apollo, {
      context: async ({ req }) => ({
        viewer: await viewerFromHeader(services.accounts, req.headers.authorization),
        services,
      }),
    }),
  );
  expressApp.use(httpErrorHandler(logger));

  await new Promise<void>((resolveListen, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, resolveListen);
  });
  const port = (httpServer.address() as AddressInfo).port;
  logger.info({ port, databasePath: config.databasePath }, `listening on http://localhost:${port}/graphql`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      const liveClosed = stopAccepting(httpServer, live);
      await dispatcher.stop();
      await liveClosed;
      await apollo.stop();
      await db.close();
      logger.info('stopped');
    })());

  return { url: `http://127.0.0.1:${port}/graphql`, port, db, bus, services, metrics, logger, dispatcher, stop };
}
