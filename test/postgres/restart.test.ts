import { createAccountWithCli } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gql, gqlOk } from '../helpers/graphql';
import { connectLiveOk } from '../helpers/live-client';
import { alive, originOf, pgRows, PrivateCluster, startPrivateCluster, usePostgresServers } from '../helpers/postgres';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'restart-secret-0123456';

/** Mutations sent one after another on `lanes` lanes until `stop()`; failures are counted, never thrown. */
function backgroundLoad(url: string, apiKey: string, lanes = 3) {
  let stopped = false;
  let sent = 0;
  const acked: string[] = [];
  const failures: Array<{ status: number; body: string }> = [];
  const running = Promise.all(
    Array.from({ length: lanes }, async () => {
      while (!stopped) {
        const index = sent++;
        try {
          const response = await gql(url, CREATE_PROJECT, { input: { name: `Load ${index}` } }, apiKey);
          if (response.status === 200 && !response.errors) acked.push(response.data.createProject.id);
          else failures.push({ status: response.status, body: JSON.stringify(response.errors) });
        } catch (error) {
          failures.push({ status: 0, body: String(error) });
        }
        // A little breathing room between mutations of a lane while the database is down.
        if (failures.length > 0) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }),
  );
  return {
    acked,
    failures,
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/**
 * The database server restarted under the service's feet (a private cluster, `pg_ctl stop -m fast`,
 * or `-m immediate` as in a crash, while deliveries are being made, then started again on the same port): while it is down the
 * process stays up, `/healthz` answers 503 and GraphQL requests fail with a clean error; once it is
 * back the same process is healthy again within seconds (its LISTEN connection back too), new
 * mutations work, a subscriber connected throughout hears every event once and in commit order, and
 * every delivery, from before the outage too, ends SUCCEEDED with no delivery received more than twice.
 */
describe('PostgreSQL restarted while the service runs', () => {
  const rig = usePostgresServers(SECRET);
  let cluster: PrivateCluster;
  beforeAll(async () => {
    cluster = await startPrivateCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it.each(['fast', 'immediate'] as const)(
    'stopped -m %s: 503 while down, clean errors, no crash; healthy again after, and every delivery succeeds',
    async (mode) => {
      const url = cluster.urlOf(`deskforge_${mode}`);
      await pgRows(cluster.urlOf('postgres'), `CREATE DATABASE "deskforge_${mode}"`);
      const account = createAccountWithCli(url);
      // A second account whose key this process has never seen (so it is not in its key cache).
      const other = createAccountWithCli(url, 'Other');
      const server = await rig.spawn(url, {
        WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_TIMEOUT_MS: '2000',
        WEBHOOK_LEASE_MS: '6000',
        WEBHOOK_RETRY_DELAYS_MS: '200,400,800,1600,3200',
        WEBHOOK_CONCURRENCY: '4',
      });
      // Its wake-up connection: the one session whose last statement was the LISTEN.
      const listening = async () =>
        (
          await pgRows<{ n: number }>(
            url,
            `SELECT count(*)::int AS "n" FROM pg_stat_activity WHERE "datname" = current_database() AND "query" = 'LISTEN deskforge_wake'`,
          )
        )[0].n;
      await waitFor(async () => (await listening()) === 1, { what: 'the process to LISTEN for wake-ups' });
      const healthz = async () => (await fetch(`${originOf(server)}/healthz`)).status;
      const receiver = rig.receiver;
      receiver.reply(() => ({ delayMs: 150 }));
      const webhook = await createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });

      // A live subscriber, connected through the outage: the feed reader must pick up where it was.
      const live = await connectLiveOk(server.url.replace(/^http/, 'ws'), account.apiKey);
      const events = live.subscribe<{ events: { id: string } }>('subscription { events { id } }');
      await waitFor(async () => /^deskforge_subscriptions_active 1$/m.test(await (await fetch(`${originOf(server)}/metrics`)).text()), {
        what: 'the subscription to be active',
      });

      const load = backgroundLoad(server.url, account.apiKey);
      let pendingAtStop: string[];
      try {
        await waitFor(() => receiver.requests.length >= 10 && load.acked.length >= 20, { what: 'deliveries to be under way' });
        pendingAtStop = (await pgRows<{ id: string }>(url, `SELECT "id" FROM "deliveries" WHERE "status" = 'pending'`)).map(
          (row) => row.id,
        );
        await cluster.stop(mode);
        const downAt = Date.now();

        // Down: the process answers, unhealthy, and GraphQL fails cleanly.
        await waitFor(async () => (await healthz()) === 503, { timeoutMs: 10_000, what: '/healthz to answer 503' });
        const healthBody = await (await fetch(`${originOf(server)}/healthz`)).json();
        expect(healthBody).toEqual({ status: 'unavailable' });
        const mutation = await gql(server.url, CREATE_PROJECT, { input: { name: 'While down' } }, account.apiKey);
        const query = await gql(server.url, '{ projects(first: 5) { nodes { id } } }', {}, account.apiKey);
        for (const response of [mutation, query]) {
          expect(response.errors).toEqual([
            expect.objectContaining({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }),
          ]);
          const text = JSON.stringify(response);
          expect(text).not.toMatch(/ECONNREFUSED|postgres:\/\/|\bat \w+ \(|terminating connection/);
        }
        // A valid key the process has not cached yet is not called invalid because the database is down.
        const unseenKey = await gql(server.url, '{ viewer { id } }', {}, other.apiKey);
        expect(unseenKey.errors?.[0]?.extensions?.code).not.toBe('UNAUTHENTICATED');
        expect(unseenKey.data?.viewer ?? null).toBeNull();
        // Still down a moment later: still answering, still 503, still alive.
        await waitFor(() => load.failures.length >= 5, { timeoutMs: 10_000, what: 'the load to meet the outage' });
        expect(await healthz()).toBe(503);
        expect(alive(server)).toBe(true);

        await cluster.start();
        await waitFor(async () => (await healthz()) === 200, { timeoutMs: 15_000, intervalMs: 100, what: '/healthz to answer 200 again' });
        expect(Date.now() - downAt).toBeLessThan(30_000);
        expect(alive(server)).toBe(true);
        const after = await gqlOk(server.url, CREATE_PROJECT, { input: { name: 'After the restart' } }, account.apiKey);
        expect((await gqlOk(server.url, '{ viewer { id } }', {}, other.apiKey)).viewer.id).toBe(other.accountId);
        // The wake-up connection came back by itself too.
        await waitFor(async () => (await listening()) === 1, { timeoutMs: 10_000, what: 'the process to LISTEN again' });
        await waitFor(() => load.acked.length >= 40, { timeoutMs: 15_000, what: 'the load to go on after the restart' });
        await load.stop();
        expect(load.acked).not.toContain(after.createProject.id);
        load.acked.push(after.createProject.id);
      } finally {
        await load.stop();
      }
      try {
        // The subscriber heard every event committed, before, during (if any) and after the outage, in commit order, each once.
        const committed = await pgRows<{ id: string }>(
          url,
          `SELECT "id" FROM "events" WHERE "accountId" = ? AND NOT "test" ORDER BY "position"`,
          [account.accountId],
        );
        const lastId = committed.at(-1)!.id;
        await waitFor(() => events.data.some((data) => data.events.id === lastId), {
          timeoutMs: 10_000,
          what: 'the subscriber to hear the last event',
        });
        expect(events.error).toBeUndefined();
        expect(events.data.map((data) => data.events.id)).toEqual(committed.map((row) => row.id));
      } finally {
        await live.close();
      }

      // Every delivery stored, from before, during and after the outage, ends SUCCEEDED.
      const deliveries = await waitFor(
        async () => {
          const rows = await pgRows<{ id: string; status: string; projectId: string }>(
            url,
            `SELECT "d"."id", "d"."status", "e"."projectId" FROM "deliveries" "d" JOIN "events" "e" ON "e"."id" = "d"."eventId" WHERE "d"."webhookId" = ?`,
            [webhook.id],
          );
          const [{ n }] = await pgRows<{ n: number }>(
            url,
            `SELECT count(*)::int AS "n" FROM "events" WHERE "accountId" = ? AND NOT "test"`,
            [account.accountId],
          );
          return rows.length === n && rows.every((row) => row.status === 'succeeded') && rows;
        },
        { timeoutMs: 30_000, intervalMs: 250, what: 'every delivery to succeed' },
      );
      expect(alive(server)).toBe(true);
      const delivered = new Set(deliveries.map((row) => row.projectId));
      for (const projectId of load.acked) expect(delivered.has(projectId)).toBe(true);
      // Each at least once, none more than twice (a repeat is an attempt whose outcome the outage cut off).
      const counts = new Map<string, number>();
      for (const request of receiver.requests) {
        const id = request.headers['x-deskforge-delivery'] as string;
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
      expect(new Set(counts.keys())).toEqual(new Set(deliveries.map((row) => row.id)));
      expect([...counts].filter(([, count]) => count > 2)).toEqual([]);
      expect(receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);
      // The outage cut through the work: deliveries pending when it began are among those that succeeded.
      expect(pendingAtStop.length).toBeGreaterThan(0);
      const succeeded = new Set(deliveries.map((row) => row.id));
      expect(pendingAtStop.filter((id) => !succeeded.has(id))).toEqual([]);
    },
    90_000,
  );
});
