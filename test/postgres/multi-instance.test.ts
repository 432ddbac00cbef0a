import { ChildServer, createAccountWithCli } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { connectLiveOk } from '../helpers/live-client';
import { alive, originOf, pgRows, usePostgresServers } from '../helpers/postgres';
import { freshDatabase } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'multi-instance-secret-0123';
const WORKER_CONCURRENCY = 4;

/**
 * Every lease a delivery was ever given, as committed: a trigger on `deliveries` (test-only, added
 * beside the app's schema) writes the owner each time a lease is taken, by a claim or by the
 * hand-off at insert. Rolled-back leases leave nothing, as they held nothing.
 */
async function recordLeaseHistory(url: string): Promise<void> {
  await pgRows(
    url,
    `CREATE TABLE "lease_history" ("seq" SERIAL PRIMARY KEY, "deliveryId" varchar NOT NULL, "leaseOwner" varchar NOT NULL, "at" timestamptz NOT NULL)`,
  );
  await pgRows(
    url,
    `CREATE FUNCTION "record_lease"() RETURNS trigger AS $$ BEGIN
       IF NEW."leaseOwner" IS NOT NULL AND (TG_OP = 'INSERT' OR NEW."leaseToken" IS DISTINCT FROM OLD."leaseToken" OR NEW."leaseOwner" IS DISTINCT FROM OLD."leaseOwner") THEN
         INSERT INTO "lease_history" ("deliveryId", "leaseOwner", "at") VALUES (NEW."id", NEW."leaseOwner", clock_timestamp());
       END IF;
       RETURN NEW;
     END $$ LANGUAGE plpgsql`,
  );
  await pgRows(url, `CREATE TRIGGER "record_lease" AFTER INSERT OR UPDATE ON "deliveries" FOR EACH ROW EXECUTE FUNCTION "record_lease"()`);
}

const ownerOf = (server: ChildServer) => server.logs.find((entry) => entry.msg === 'delivery worker started')?.owner as string;
const attemptsBy = (server: ChildServer) => server.logs.filter((entry) => entry.msg === 'webhook attempt');

/** Waits until `server` holds `count` live subscriptions (its `deskforge_subscriptions_active` gauge). */
async function subscriptionsActive(server: ChildServer, count: number): Promise<void> {
  const pattern = new RegExp(`^deskforge_subscriptions_active ${count}$`, 'm');
  await waitFor(async () => pattern.test(await (await fetch(`${originOf(server)}/metrics`)).text()), {
    what: `${count} active subscriptions`,
  });
}

interface Created {
  projectId: string;
  /** When the mutation was sent (it committed after that). */
  sentAt: number;
  ackedAt: number;
  through: ChildServer;
}

/**
 * `total` createProject mutations, `lanes` at a time per server, spread over `servers`. A lane stops
 * once its server is `dead()`; a request that fails on a dead server is counted (it may or may not
 * have committed), any other failure fails the test.
 */
async function createProjects(
  servers: ChildServer[],
  apiKey: string,
  total: number,
  { lanes = 4, prefix = 'Load', dead = () => false }: { lanes?: number; prefix?: string; dead?: (server: ChildServer) => boolean } = {},
): Promise<{ created: Created[]; lost: number }> {
  let next = 0;
  let lost = 0;
  const created: Created[] = [];
  await Promise.all(
    servers.flatMap((server) =>
      Array.from({ length: lanes }, async () => {
        while (next < total && !dead(server)) {
          const index = next++;
          const sentAt = Date.now();
          try {
            const { createProject } = await gqlOk(server.url, CREATE_PROJECT, { input: { name: `${prefix} ${index}` } }, apiKey);
            created.push({ projectId: createProject.id, sentAt, ackedAt: Date.now(), through: server });
          } catch (error) {
            if (!dead(server)) throw error;
            lost += 1;
          }
        }
      }),
    ),
  );
  return { created, lost };
}

/**
 * Three service processes (api and worker each) on one PostgreSQL database, as real processes:
 * they share the deliveries through leases (a kill -9 of one loses nothing and repeats only the
 * attempts it had in flight), a subscriber on any of them hears what all of them commit, in commit
 * order, each once, and a secret rotated through one signs the others' deliveries within a second.
 */
describe('three instances on one PostgreSQL database', () => {
  const rig = usePostgresServers(SECRET);
  let url: string;
  let account: { accountId: string; apiKey: string };

  beforeEach(() => {
    url = freshDatabase('');
    // The CLI migrates the empty database first, so the test's trigger can go beside the schema.
    account = createAccountWithCli(url);
  });

  function start(env: Record<string, string> = {}): Promise<ChildServer> {
    return rig.spawn(url, {
      DESKFORGE_ROLES: '',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_RETRY_DELAYS_MS: '200,400,800',
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_LEASE_MS: '3000',
      WEBHOOK_CONCURRENCY: String(WORKER_CONCURRENCY),
      WEBHOOK_ENDPOINT_CONCURRENCY: String(WORKER_CONCURRENCY),
      LOG_LEVEL: 'debug',
      ...env,
    });
  }

  it('under load, kill -9 of one instance: every delivery succeeds, each arrives, and only deliveries the killed one held arrive twice, with the same body', async () => {
    await recordLeaseHistory(url);
    const [a, b, c] = await Promise.all([start(), start(), start()]);
    const receiver = rig.receiver;
    receiver.reply(() => ({ delayMs: 40 }));
    const webhook = await createWebhook(a.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });

    let killedAt = 0;
    const dead = (server: ChildServer) => server === c && killedAt > 0;
    const killing = (async () => {
      await waitFor(() => attemptsBy(c).length >= 8, { timeoutMs: 20_000, what: 'the instance to be killed to make attempts' });
      killedAt = Date.now();
      c.process.kill('SIGKILL');
      return c.exited;
    })();
    const load = await createProjects([a, b, c], account.apiKey, 300, { dead });
    expect(await killing).toEqual({ code: null, signal: 'SIGKILL' });
    // The kill came in the middle of the load: the other two went on accepting work after it.
    expect(load.created.filter((entry) => entry.ackedAt > killedAt && entry.through !== c).length).toBeGreaterThan(0);
    expect(load.created.filter((entry) => entry.through === c).length).toBeGreaterThan(0);

    const deliveries = await waitFor(
      async () => {
        const rows = await pgRows<{ id: string; status: string; eventId: string; leaseOwner: string | null; attemptCount: number }>(
          url,
          `SELECT "d"."id", "d"."status", "d"."eventId", "d"."leaseOwner", "d"."attemptCount" FROM "deliveries" "d" WHERE "d"."webhookId" = ?`,
          [webhook.id],
        );
        const [{ n }] = await pgRows<{ n: number }>(url, `SELECT count(*)::int AS "n" FROM "events" WHERE "accountId" = ? AND NOT "test"`, [
          account.accountId,
        ]);
        return rows.length === n && rows.every((row) => row.status === 'succeeded') && rows;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'every delivery to succeed' },
    );
    expect(alive(a) && alive(b)).toBe(true);
    // Every acknowledged mutation has its delivery (plus those whose answer the kill cut off, if they committed).
    expect(deliveries.length).toBeGreaterThanOrEqual(load.created.length);
    expect(deliveries.length).toBeLessThanOrEqual(load.created.length + load.lost);
    const eventOfProject = new Map(
      (
        await pgRows<{ id: string; projectId: string }>(url, `SELECT "id", "projectId" FROM "events" WHERE "accountId" = ?`, [
          account.accountId,
        ])
      ).map((row) => [row.projectId, row.id]),
    );
    const deliveredEvents = new Set(deliveries.map((row) => row.eventId));
    for (const { projectId } of load.created) expect(deliveredEvents.has(eventOfProject.get(projectId)!)).toBe(true);
    expect(deliveries.every((row) => row.leaseOwner === null)).toBe(true);

    // Each delivery id arrived at least once, and nothing else arrived; every request validly signed.
    const bodiesOf = new Map<string, string[]>();
    for (const request of receiver.requests) {
      const id = request.headers['x-deskforge-delivery'] as string;
      bodiesOf.set(id, [...(bodiesOf.get(id) ?? []), request.raw.toString('utf8')]);
    }
    expect(new Set(bodiesOf.keys())).toEqual(new Set(deliveries.map((row) => row.id)));
    expect(receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);

    // Repeats: only deliveries leased by the killed instance (its attempts in flight), with the same body.
    const killedOwner = ownerOf(c);
    expect(killedOwner).toEqual(expect.any(String));
    const leasedByKilled = new Set(
      (
        await pgRows<{ deliveryId: string }>(url, `SELECT DISTINCT "deliveryId" FROM "lease_history" WHERE "leaseOwner" = ?`, [killedOwner])
      ).map((row) => row.deliveryId),
    );
    expect(leasedByKilled.size).toBeGreaterThan(0);
    const repeated = [...bodiesOf].filter(([, bodies]) => bodies.length > 1);
    // In flight at the kill: attempts it had made whose outcome it had not stored yet (those it
    // logged as made), and those it was still making (at most its concurrency).
    expect(repeated.length).toBeLessThanOrEqual(attemptsBy(c).length + WORKER_CONCURRENCY);
    const history = await pgRows<{ deliveryId: string; leaseOwner: string; at: Date }>(
      url,
      `SELECT "deliveryId", "leaseOwner", "at" FROM "lease_history" ORDER BY "seq"`,
    );
    for (const [id, bodies] of repeated) {
      expect({ id, leasedByKilled: leasedByKilled.has(id) }).toEqual({ id, leasedByKilled: true });
      expect(new Set(bodies).size).toBe(1);
      // Twice at most: the killed instance's request, then the one of whoever took the lease over
      // once it ran out; that one arrived after the takeover, the first before it.
      expect(bodies).toHaveLength(2);
      const leases = history.filter((row) => row.deliveryId === id);
      const killedLease = leases.findIndex((row) => row.leaseOwner === killedOwner);
      const takeover = leases.slice(killedLease + 1).find((row) => row.leaseOwner !== killedOwner);
      expect(takeover).toBeDefined();
      const [first, second] = receiver.forDelivery(id);
      expect(first.receivedAt).toBeLessThan(takeover!.at.getTime());
      expect(second.receivedAt).toBeGreaterThanOrEqual(takeover!.at.getTime());
      expect(takeover!.at.getTime()).toBeGreaterThan(killedAt);
    }
    expect(attemptsBy(a).length + attemptsBy(b).length).toBeGreaterThan(0);
  }, 60_000);

  it('a subscriber on instance A gets every event committed through B and C, in commit order, none missing, none twice', async () => {
    const [a, b, c] = await Promise.all([start({ LOG_LEVEL: 'info' }), start({ LOG_LEVEL: 'info' }), start({ LOG_LEVEL: 'info' })]);
    const live = await connectLiveOk(a.url.replace(/^http/, 'ws'), account.apiKey);
    try {
      const events = live.subscribe<{ events: { id: string; type: string } }>('subscription { events { id type } }');
      await subscriptionsActive(a, 1);

      const load = await createProjects([b, c], account.apiKey, 120, { lanes: 6 });
      expect(load.created).toHaveLength(120);
      // One more, committed after all the others: once it is heard, anything before it has been too.
      const { createProject: last } = await gqlOk(b.url, CREATE_PROJECT, { input: { name: 'Last' } }, account.apiKey);
      const [{ id: lastEventId }] = await pgRows<{ id: string }>(url, `SELECT "id" FROM "events" WHERE "projectId" = ?`, [last.id]);
      await waitFor(() => events.data.some((data) => data.events.id === lastEventId), { timeoutMs: 15_000, what: 'the last event on A' });

      const committed = await pgRows<{ id: string }>(url, `SELECT "id" FROM "events" WHERE "accountId" = ? ORDER BY "position"`, [
        account.accountId,
      ]);
      expect(committed).toHaveLength(121);
      expect(events.error).toBeUndefined();
      expect(events.data.map((data) => data.events.id)).toEqual(committed.map((row) => row.id));
      expect(events.data.every((data) => data.events.type === 'PROJECT_CREATED')).toBe(true);
    } finally {
      await live.close();
    }
  }, 60_000);

  it("a secret rotated through instance A signs instance B's next deliveries within a second", async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const receiver = rig.receiver;
    const webhook = await createWebhook(a.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    const sentByB = () => new Set(attemptsBy(b).map((entry) => entry.deliveryId as string));
    const arrivalOf = (projectId: string) => receiver.requests.find((request) => request.body?.data?.project?.id === projectId);

    // Before: B's delivery is signed with the first secret (it was created through A: B learned of it).
    const { createProject: before } = await gqlOk(b.url, CREATE_PROJECT, { input: { name: 'Before rotation' } }, account.apiKey);
    const first = await waitFor(() => arrivalOf(before.id), { what: 'the delivery before the rotation' });
    expect(first.deskforgeValid && first.standardValid).toBe(true);

    const rotated = 'multi-instance-rotated-4567';
    await gqlOk(
      a.url,
      'mutation ($id: ID!, $s: String) { rotateWebhookSecret(id: $id, secret: $s) { secret } }',
      { id: webhook.id, s: rotated },
      account.apiKey,
    );
    const rotatedAt = Date.now();
    receiver.secret = rotated;

    // Commit through B for a while past the first second after the rotation.
    const after: Created[] = [];
    while (Date.now() - rotatedAt < 1_800) {
      const sentAt = Date.now();
      const { createProject } = await gqlOk(b.url, CREATE_PROJECT, { input: { name: `After rotation ${after.length}` } }, account.apiKey);
      after.push({ projectId: createProject.id, sentAt, ackedAt: Date.now(), through: b });
      await waitFor(() => arrivalOf(createProject.id), { what: 'a delivery after the rotation' });
    }
    const late = after.filter((entry) => entry.sentAt - rotatedAt >= 1_000).map((entry) => arrivalOf(entry.projectId)!);
    expect(late.length).toBeGreaterThan(0);
    for (const request of late) {
      expect({
        delivery: request.headers['x-deskforge-delivery'],
        deskforgeValid: request.deskforgeValid,
        standardValid: request.standardValid,
      }).toEqual({
        delivery: request.headers['x-deskforge-delivery'],
        deskforgeValid: true,
        standardValid: true,
      });
    }
    // B's worker sent them (deliveries committed through B are handed to its own worker).
    const byB = sentByB();
    expect(late.filter((request) => byB.has(request.headers['x-deskforge-delivery'] as string)).length).toBeGreaterThan(0);
  }, 60_000);
});
