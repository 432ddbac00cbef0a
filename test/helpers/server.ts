import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, AppDependencies, startApp } from '../../src/app';
import { Config, loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createAccount, TestAccount } from './graphql';
import { databaseOverrides, freshDatabase } from './test-database';

export interface TestServer {
  app: App;
  /** http://127.0.0.1:<port>/graphql */
  url: string;
  /** ws://127.0.0.1:<port>/graphql */
  wsUrl: string;
  /** http://127.0.0.1:<port> */
  origin: string;
  dir: string;
  config: Config;
  stop(): Promise<void>;
}

export type ConfigOverrides = Partial<Omit<Config, 'webhook' | 'limits' | 'live'>> & {
  webhook?: Partial<Config['webhook']>;
  limits?: Partial<Config['limits']>;
  live?: Partial<Config['live']>;
};

/**
 * The test defaults: port 0, a fresh database (a SQLite file in a temp folder, or a new PostgreSQL
 * database on the PostgreSQL run, unless `overrides` names one), private URLs allowed, short retries,
 * and no delivery engine (`webhook.dispatch: false`), so no test sends a webhook anywhere unless it
 * asks to with `{ webhook: { dispatch: true } }` and a receiver on 127.0.0.1.
 */
export function testConfig(dir: string, overrides: ConfigOverrides = {}): Config {
  const base = loadConfig({});
  const named = overrides.databasePath !== undefined || overrides.databaseUrl !== undefined;
  return {
    ...base,
    port: 0,
    databasePath: join(dir, 'test.sqlite'),
    ...(named ? {} : databaseOverrides(freshDatabase(dir))),
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    shutdownGraceMs: 2_000,
    ...overrides,
    webhook: {
      ...base.webhook,
      allowPrivateUrls: true,
      retryDelaysMs: [50, 100, 150],
      timeoutMs: 2_000,
      dispatch: false,
      ...overrides.webhook,
    },
    limits: { ...base.limits, ...overrides.limits },
    live: { ...base.live, ...overrides.live },
  };
}

/** Starts the real app (HTTP + WebSocket on a free port, a real database). `stop()` also removes the temp folder. */
export async function startTestServer(overrides: ConfigOverrides = {}, deps: AppDependencies = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'deskforge-test-'));
  const config = testConfig(dir, overrides);
  const app = await startApp(config, { logger: createLogger(config.logLevel), ...deps });
  const origin = `http://127.0.0.1:${app.port}`;
  return {
    app,
    url: app.url,
    wsUrl: app.url.replace(/^http/, 'ws'),
    origin,
    dir,
    config,
    async stop() {
      await app.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A started test server with one account on it, for the test files that need nothing more. */
export async function startServerWithAccount(
  overrides: ConfigOverrides = {},
  deps: AppDependencies = {},
): Promise<{ server: TestServer; account: TestAccount }> {
  const server = await startTestServer(overrides, deps);
  return { server, account: await createAccount(server.app) };
}

/** What `useServerWithAccount` fills in before the first test of its `describe`. */
export interface ServerWithAccount {
  server: TestServer;
  account: TestAccount;
}

/** One test server and one account for the enclosing `describe`: started before its first test, stopped after its last. */
export function useServerWithAccount(overrides: ConfigOverrides = {}): ServerWithAccount {
  const shared = {} as ServerWithAccount;
  beforeAll(async () => {
    shared.server = await startTestServer(overrides);
    shared.account = await createAccount(shared.server.app);
  });
  afterAll(() => shared.server?.stop());
  return shared;
}
