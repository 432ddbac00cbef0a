import { DeliveryStatus } from '../../src/delivery/delivery-status';
import { POSTGRES_POOL_SIZE } from '../../src/db/data-source-options';
import { DeliveryHistory } from '../helpers/delivery-history';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { createAccount, gql, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';
import { testEngine } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

/**
 * One account must not take the service from the others (API.md §3, issue 21): while one account
 * spends everything the limits let it, another account's writes and `/healthz` stay fast.
 */

/** The heavy account's webhooks: with their `stats`, 99 + 99 × 100 = 9,999 of the 10,000 a query may cost. */
const HEAVY_WEBHOOKS = 99;
const DELIVERIES_PER_WEBHOOK = 60;
const HEAVIEST = `{ webhooks(first: ${HEAVY_WEBHOOKS}) { nodes { stats(since: "2000-01-01T00:00:00Z") { succeeded failed attempts attemptDurationP95Ms } } } }`;

/** Gives the account `HEAVY_WEBHOOKS` webhooks, each with its stored deliveries (one attempt each) to aggregate. */
async function seedHeavyAccount(server: TestServer, account: TestAccount): Promise<void> {
  const history = new DeliveryHistory(server, account.accountId);
  const createdAt = new Date(Date.now() - 60 * 60 * 1000);
  for (let i = 0; i < HEAVY_WEBHOOKS; i += 1) {
    const { id: webhookId } = await createWebhook(server.url, account.apiKey, {
      url: `https://example.com/heavy/${i}`,
      events: ['BUILD_SUCCEEDED'],
    });
    const events = await history.events(DELIVERIES_PER_WEBHOOK, createdAt);
    await history.deliveries(
      events.map((eventId, n) => ({
        eventId,
        webhookId,
        status: n % 10 === 0 ? DeliveryStatus.FAILED : DeliveryStatus.SUCCEEDED,
        createdAt,
        attempts: [{ startedAt: createdAt, durationMs: 20 + ((n * 37) % 500) }],
      })),
    );
  }
}

interface HeavyLoops {
  answered: number;
  /** Answers by error code: `RATE_LIMITED` for the operations over the account's bound. */
  refused: Record<string, number>;
  stop(): Promise<void>;
}

/** `loops` concurrent loops, each sending `query` again as soon as the last answer came. */
function heavyLoops(server: TestServer, key: string, query: string, loops: number): HeavyLoops {
  let stopped = false;
  const state: HeavyLoops = { answered: 0, refused: {}, stop: async () => undefined };
  const running = Array.from({ length: loops }, async () => {
    while (!stopped) {
      const response = await gql(server.url, query, {}, key);
      const code = response.errors?.[0]?.extensions?.code;
      if (response.status === 200 && !code) state.answered += 1;
      else state.refused[code ?? `HTTP ${response.status}`] = (state.refused[code ?? `HTTP ${response.status}`] ?? 0) + 1;
    }
  });
  state.stop = async () => {
    stopped = true;
    await Promise.all(running);
  };
  return state;
}

/** The times of `count` requests sent one after another; each must succeed (`ok`). */
async function timed(count: number, request: (index: number) => Promise<boolean>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    expect(await request(i)).toBe(true);
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b);
}

function createProjectOk(server: TestServer, account: TestAccount) {
  return async (index: number) => {
    const response = await gql(server.url, CREATE_PROJECT, { input: { name: `neighbour ${index}` } }, account.apiKey);
    return response.status === 200 && !response.errors && response.data.createProject.name === `neighbour ${index}`;
  };
}

describe('a noisy neighbour', () => {
  let server: TestServer;
  let heavy: TestAccount;
  let neighbour: TestAccount;
  beforeAll(async () => {
    // A short wait for a turn: the heavy loops over the bound are refused within the test's time.
    server = await startTestServer({ limits: { operationWaitMs: 200 } });
    heavy = await createAccount(server.app, 'Heavy');
    neighbour = await createAccount(server.app, 'Neighbour');
    await seedHeavyAccount(server, heavy);
  }, 30_000);
  afterAll(() => server.stop());

  it('leaves another account’s mutations fast while it sends the heaviest queries allowed from 12 loops', async () => {
    const alone = await gql(server.url, HEAVIEST, {}, heavy.apiKey);
    expect(alone.errors).toBeUndefined();
    expect(alone.data.webhooks.nodes).toHaveLength(HEAVY_WEBHOOKS);
    expect(alone.data.webhooks.nodes[0].stats.succeeded + alone.data.webhooks.nodes[0].stats.failed).toBe(DELIVERIES_PER_WEBHOOK);

    const loops = heavyLoops(server, heavy.apiKey, HEAVIEST, 12);
    try {
      // The heavy account is at its bound once some of its operations are refused.
      await waitFor(() => (loops.refused.RATE_LIMITED ?? 0) > 0, {
        timeoutMs: 15_000,
        what: 'the heavy account’s operations over its bound refused',
      });
      const times = await timed(30, createProjectOk(server, neighbour));
      const p50 = times[Math.floor(times.length / 2)];
      expect(p50).toBeLessThan(500);
      // Heavy queries take turns a fifth of the time (after the one above, a pause of four times its
      // length): one of the loops' gets its turn within a few seconds.
      await waitFor(() => loops.answered > 0, { timeoutMs: 15_000, what: 'a heavy query answered in its turn' });
    } finally {
      await loops.stop();
    }
    expect(loops.answered).toBeGreaterThan(0);
    // Only turns are refused: no heavy query failed otherwise (out of time, size, or connections).
    expect(Object.keys(loops.refused)).toEqual(['RATE_LIMITED']);
  }, 40_000);

  it('answers another account’s reads while it sends the heaviest queries allowed from 12 loops', async () => {
    const loops = heavyLoops(server, heavy.apiKey, HEAVIEST, 12);
    try {
      await waitFor(() => (loops.refused.RATE_LIMITED ?? 0) > 0, {
        timeoutMs: 15_000,
        what: 'the heavy account’s operations over its bound refused',
      });
      // Few: on a service whose readers are taken each read may wait for the pool's 5 s connect timeout.
      const times = await timed(5, async () => {
        const response = await gql(server.url, '{ projects(first: 5) { nodes { id } } }', {}, neighbour.apiKey);
        return response.status === 200 && !response.errors;
      });
      expect(times[Math.floor(times.length / 2)]).toBeLessThan(500);
    } finally {
      await loops.stop();
    }
  }, 40_000);
});

(testEngine === 'postgres' ? describe : describe.skip)('PostgreSQL: an account’s reads fill the readers’ pool', () => {
  let server: TestServer;
  let neighbour: TestAccount;
  beforeAll(async () => {
    server = await startTestServer();
    neighbour = await createAccount(server.app, 'Neighbour');
  });
  afterAll(() => server.stop());

  it('keeps /healthz and another account’s writes fast, never 503', async () => {
    const SLEEP_S = 6;
    let sleepsEnded = false;
    const sleeps = Promise.all(
      Array.from({ length: POSTGRES_POOL_SIZE }, () => server.app.db.reader.query(`SELECT pg_sleep(${SLEEP_S})`)),
    ).finally(() => (sleepsEnded = true));
    try {
      // Every connection of the readers' pool is in its statement.
      await waitFor(
        async () => {
          const [{ count }] = await server.app.db.dataSource.query(
            `SELECT count(*)::int AS count FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(%' AND state = 'active'`,
          );
          return count === POSTGRES_POOL_SIZE;
        },
        { what: 'the readers’ pool full' },
      );
      const health = await timed(10, async () => (await fetch(`${server.origin}/healthz`)).status === 200);
      const writes = await timed(10, createProjectOk(server, neighbour));
      expect(health.at(-1)).toBeLessThan(1_000);
      expect(writes.at(-1)).toBeLessThan(1_000);
      // All of it while the pool was still full.
      expect(sleepsEnded).toBe(false);
    } finally {
      await sleeps;
    }
  }, 30_000);
});
