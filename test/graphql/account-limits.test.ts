import { ClientRequest, request } from 'node:http';
import { connect } from 'node:net';
import { createAccount, errorOf, gql, gqlOk, TestAccount } from '../helpers/graphql';
import { connectLive, connectLiveOk, LiveClient } from '../helpers/live-client';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { startTestServer, TestServer, useServerWithAccount } from '../helpers/server';
import { testEngine } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

/**
 * What one account may spend of what every account shares (API.md §3): turns, time, bytes,
 * connections, aggregates. Each test would fail on a service without the bound it names.
 */

/** An HTTP request to `/graphql` of `account` whose body never finishes arriving: it holds a turn. */
function stalledRequest(server: TestServer, key: string): ClientRequest {
  const stalled = request(`${server.url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '1000', authorization: `Bearer ${key}` },
  });
  stalled.on('error', () => undefined);
  stalled.write('{"query":');
  return stalled;
}

const VIEWER = '{ viewer { id } }';

describe('per-account turns', () => {
  let server: TestServer;
  let acme: TestAccount;
  let globex: TestAccount;
  beforeAll(async () => {
    server = await startTestServer({ limits: { operationWaitMs: 300 } });
    acme = await createAccount(server.app, 'Acme');
    globex = await createAccount(server.app, 'Globex');
  });
  afterAll(() => server.stop());

  it('refuses the 9th concurrent operation of an account with 429, RATE_LIMITED and Retry-After, and never another account', async () => {
    const held = Array.from({ length: 8 }, () => stalledRequest(server, acme.apiKey));
    try {
      await waitFor(
        async () => {
          const response = await fetch(server.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${acme.apiKey}` },
            body: JSON.stringify({ query: VIEWER }),
          });
          if (response.status !== 429) return false;
          expect(response.headers.get('retry-after')).toBe('1');
          expect((await response.json()).errors[0].extensions.code).toBe('RATE_LIMITED');
          return true;
        },
        { what: 'a 429 for the 9th operation' },
      );
      // REST shares the account's turns.
      const rest = await fetch(`${server.origin}/webhooks`, { headers: { authorization: `Bearer ${acme.apiKey}` } });
      expect(rest.status).toBe(429);
      expect(rest.headers.get('retry-after')).toBe('1');
      expect((await rest.json()).error.code).toBe('RATE_LIMITED');
      // Another account is not held up by the first one's turns (which stay held: it would get 429).
      expect(await gqlOk(server.url, CREATE_PROJECT, { input: { name: 'Globex app' } }, globex.apiKey)).toMatchObject({
        createProject: { name: 'Globex app' },
      });
      // Over WebSocket too: the account's turns are shared with HTTP.
      const live = await connectLiveOk(server.wsUrl, acme.apiKey);
      const refused = live.subscribe(VIEWER);
      await refused.waitForEnd();
      expect(refused.results).toEqual([
        { errors: [{ message: expect.stringContaining('at a time'), extensions: { code: 'RATE_LIMITED' } }] },
      ]);
      await live.close();
    } finally {
      for (const request of held) request.destroy();
    }
    // Once the requests have gone, their turns are free again.
    await waitFor(async () => (await gql(server.url, VIEWER, {}, acme.apiKey)).status === 200, { what: 'a turn freed' });
  });

  it('closes the connection that goes over the account’s live connections with 1008', async () => {
    const limited = await startTestServer({ limits: { liveConnectionsPerAccount: 3 } });
    const account = await createAccount(limited.app);
    const other = await createAccount(limited.app, 'Other');
    const open: LiveClient[] = [];
    try {
      for (let i = 0; i < 3; i += 1) open.push(await connectLiveOk(limited.wsUrl, account.apiKey));
      expect(await connectLive(limited.wsUrl, account.apiKey).closed).toEqual({
        code: 1008,
        reason: 'An account may hold 3 live connections at once',
      });
      // Another account still connects; and a closed connection frees its place.
      open.push(await connectLiveOk(limited.wsUrl, other.apiKey));
      await open.shift()!.close();
      await waitFor(
        async () => {
          const again = connectLive(limited.wsUrl, account.apiKey);
          const result = await Promise.race([
            again.closed,
            new Promise<'open'>((resolve) => again.client.on('connected', () => resolve('open'))),
          ]);
          if (result === 'open') open.push(again);
          return result === 'open';
        },
        { what: 'a place freed by a closed connection' },
      );
    } finally {
      for (const client of open) await client.close();
      await limited.stop();
    }
  });
});

describe('aggregates', () => {
  const shared = useServerWithAccount();

  it('refuses the amplified stats query before it runs', async () => {
    await createWebhook(shared.server.url, shared.account.apiKey, { url: 'https://example.com/hook', events: ['BUILD_SUCCEEDED'] });
    const stats = jest.spyOn(shared.server.app.services.deliveries, 'stats');
    const aliases = Array.from({ length: 29 }, (_, i) => `s${i}: stats(since: "2000-01-01T00:00:00Z") { succeeded }`).join(' ');
    const response = await gql(shared.server.url, `{ webhooks(first: 10) { nodes { ${aliases} } } }`, {}, shared.account.apiKey);
    expect(errorOf(response).code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(stats).not.toHaveBeenCalled();
    stats.mockRestore();
  });

  it('computes the same aggregate on the same object once per request', async () => {
    const stats = jest.spyOn(shared.server.app.services.deliveries, 'stats');
    const aliases = Array.from({ length: 5 }, (_, i) => `s${i}: stats(since: "2000-01-01T00:00:00Z") { succeeded }`).join(' ');
    const data = await gqlOk(
      shared.server.url,
      `{ webhooks(first: 1) { nodes { ${aliases} other: stats { succeeded } } } }`,
      {},
      shared.account.apiKey,
    );
    expect(data.webhooks.nodes[0].s4).toEqual({ succeeded: 0 });
    // Five aliases with the same arguments share one computation; other arguments are another.
    expect(stats).toHaveBeenCalledTimes(2);
    stats.mockRestore();
  });

  it('counts a list only when totalCount is asked for', async () => {
    const withCount = await gqlOk(shared.server.url, '{ webhooks { totalCount nodes { id } } }', {}, shared.account.apiKey);
    expect(withCount.webhooks.totalCount).toBe(withCount.webhooks.nodes.length);
  });
});

describe('time and size', () => {
  it('cancels the read statements of an operation stopped at its time limit', async () => {
    const server = await startTestServer({ limits: { operationTimeoutMs: 500 } });
    const account = await createAccount(server.app);
    try {
      const started = Date.now();
      if (testEngine === 'postgres') {
        // The readers' pool stops any statement at the limit by itself (statement_timeout).
        const failure = await server.app.db.reader.query('SELECT pg_sleep(60)').then(
          () => undefined,
          (error: { code?: string }) => error,
        );
        expect(failure?.code).toBe('57014');
      } else {
        // Both reading connections busy with statements that never end: the query behind them times
        // out, and its stop interrupts them.
        const endless = 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c';
        const slow = [server.app.db.reader.query(endless), server.app.db.reader.query(endless)].map((query) =>
          query.then(
            () => undefined,
            (error: { code?: string; message?: string }) => error,
          ),
        );
        const response = await gql(server.url, '{ projects { nodes { id } } }', {}, account.apiKey);
        expect(errorOf(response).code).toBe('TIMEOUT');
        for (const failure of await Promise.all(slow)) expect(failure?.code ?? failure?.message).toMatch(/SQLITE_INTERRUPT/);
      }
      expect(Date.now() - started).toBeLessThan(5_000);
      // The readers serve the next operation.
      expect(await gqlOk(server.url, '{ projects { nodes { id } } }', {}, account.apiKey)).toEqual({ projects: { nodes: [] } });
    } finally {
      await server.stop();
    }
  });

  it('answers TIMEOUT (504) for an operation that runs past its time limit, and the service goes on', async () => {
    const server = await startTestServer({ limits: { operationTimeoutMs: 400 } });
    const account = await createAccount(server.app);
    // A transaction that does not end holds the writer: the mutation behind it cannot finish in time.
    let release!: () => void;
    const holding = server.app.db.writes.write(() => new Promise<void>((resolve) => (release = resolve)));
    try {
      const started = Date.now();
      const response = await gql(server.url, CREATE_PROJECT, { input: { name: 'late' } }, account.apiKey);
      expect(response.status).toBe(504);
      expect(response.errors).toEqual([{ message: expect.stringContaining('longer than 0.4 s'), extensions: { code: 'TIMEOUT' } }]);
      expect(response.data).toBeUndefined();
      expect(Date.now() - started).toBeLessThan(3_000);
      release();
      await holding;
      expect(await gqlOk(server.url, VIEWER, {}, account.apiKey)).toEqual({ viewer: { id: account.accountId } });
    } finally {
      release?.();
      await server.stop();
    }
  });

  it('refuses a result over the size limit with RESPONSE_TOO_LARGE instead of sending it', async () => {
    const server = await startTestServer({ limits: { resultBytes: 4_000 } });
    const account = await createAccount(server.app);
    try {
      const long = 'x'.repeat(500);
      for (let i = 0; i < 10; i += 1)
        await gqlOk(server.url, CREATE_PROJECT, { input: { name: `p${i}`, description: long } }, account.apiKey);
      const response = await gql(server.url, '{ projects(first: 10) { nodes { id description } } }', {}, account.apiKey);
      expect(response.errors).toEqual([{ message: expect.stringContaining('larger than'), extensions: { code: 'RESPONSE_TOO_LARGE' } }]);
      expect(response.data).toBeUndefined();
      // A smaller page passes.
      expect(
        (await gqlOk(server.url, '{ projects(first: 2) { nodes { id description } } }', {}, account.apiKey)).projects.nodes,
      ).toHaveLength(2);
    } finally {
      await server.stop();
    }
  });

  it('cuts an HTTP connection that makes no progress for the send timeout', async () => {
    const server = await startTestServer({ limits: { sendTimeoutMs: 300 } });
    try {
      const socket = connect(server.app.port, '127.0.0.1');
      const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      const started = Date.now();
      // Half a request, then nothing: neither side makes progress.
      socket.write('POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
      socket.pause();
      expect((await closed) - started).toBeLessThan(5_000);
    } finally {
      await server.stop();
    }
  });
});
