import { ChildServer, createAccountWithCli, useChildServers } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { Receiver, startReceiver } from '../helpers/receiver';
import { databaseEnv, freshDatabase } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'dead-endpoints-secret-0123';
const DEAD_WEBHOOKS_PER_ACCOUNT = 40;
const HEALTHY_EVENTS = 24;

/** Spaces out load over time (pacing, not synchronization: nothing waits for a state here). */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * API.md §5: no set of accounts, with however many dead webhooks, delays a delivery to another
 * account's healthy endpoint by more than about a second. Two accounts with 40 webhooks each at an
 * endpoint that accepts the connection and never answers (timeout 1.5 s), with a backlog that
 * keeps growing, would hold every attempt slot (50) without lanes; a third account's deliveries to
 * a receiver that answers at once must still arrive within about a second of their event's creation.
 * Real processes on one database, with one worker and with two.
 */
describe.each([
  { workers: 1, roles: ['api,worker'] },
  { workers: 2, roles: ['api', 'worker', 'worker'] },
])('a healthy endpoint beside two accounts of dead ones, $workers worker process(es)', ({ workers, roles }) => {
  const rig = useChildServers(SECRET);
  let dead: Receiver;
  beforeEach(async () => {
    dead = await startReceiver(SECRET);
    dead.reply(() => ({ hang: true }));
  });
  afterEach(() => dead.close());

  it("the healthy account's deliveries start within about a second (p95), however the dead ones back up", async () => {
    const location = freshDatabase(rig.dir, 'dead-endpoints');
    const [deadA, deadB, healthy] = ['Dead A', 'Dead B', 'Healthy'].map((name) => createAccountWithCli(location, name));
    const processes: ChildServer[] = [];
    for (const role of roles) {
      processes.push(
        await rig.spawn({
          ...databaseEnv(location),
          DESKFORGE_ROLES: role,
          WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
          WEBHOOK_TIMEOUT_MS: '1500',
          // Failed attempts are due again soon, so the dead endpoints' backlog never thins out.
          WEBHOOK_RETRY_DELAYS_MS: '100,100,100',
          WEBHOOK_DISABLE_AFTER_FAILURES: '1000',
        }),
      );
    }
    const api = processes[0];
    for (const account of [deadA, deadB]) {
      for (let i = 0; i < DEAD_WEBHOOKS_PER_ACCOUNT; i += 1) {
        await createWebhook(api.url, account.apiKey, {
          url: `${dead.url}/${account.accountId}/${i}`,
          events: ['PROJECT_CREATED'],
          secret: SECRET,
        });
      }
    }
    await createWebhook(api.url, healthy.apiKey, { url: rig.receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    // 30 events × 40 webhooks per dead account: more than every worker's claim window holds.
    const deadEvent = (i: number) => gqlOk(api.url, CREATE_PROJECT, { input: { name: `Dead ${i}` } }, [deadA, deadB][i % 2].apiKey);
    for (let i = 0; i < 60; i += 1) await deadEvent(i);
    // A steady state: every dead webhook has been attempted, and two rounds of timeouts later none is
    // still on its first attempt in any worker (a probe, which may use part of the reserve: see EndpointHealth).
    await waitFor(() => new Set(dead.requests.map((request) => request.path)).size === 2 * DEAD_WEBHOOKS_PER_ACCOUNT, {
      timeoutMs: 20_000,
      what: 'every dead endpoint to be attempted',
    });
    const attempted = dead.requests.length;
    await waitFor(() => dead.requests.length >= attempted + 80 * workers, { timeoutMs: 15_000, what: 'two rounds of timeouts more' });

    // Now the healthy account's events, spread over six seconds, while the dead accounts keep adding.
    const before = dead.requests.length;
    let feeding = true;
    const feed = (async () => {
      for (let i = 60; feeding; i += 1) {
        await deadEvent(i);
        await pause(200);
      }
    })();
    const projects: string[] = [];
    try {
      for (let i = 0; i < HEALTHY_EVENTS; i += 1) {
        projects.push((await gqlOk(api.url, CREATE_PROJECT, { input: { name: `Healthy ${i}` } }, healthy.apiKey)).createProject.id);
        await pause(250);
      }
      await waitFor(() => rig.receiver.requests.length >= HEALTHY_EVENTS, { timeoutMs: 30_000, what: 'every healthy delivery' });
    } finally {
      feeding = false;
      await feed;
    }

    const latencies = rig.receiver.requests
      .filter((request) => projects.includes(request.body.data.project.id))
      .map((request) => request.receivedAt - Date.parse(request.body.createdAt))
      .sort((a, b) => a - b);
    expect(latencies).toHaveLength(HEALTHY_EVENTS);
    const p95 = latencies[Math.ceil(0.95 * latencies.length) - 1];
    process.stdout.write(
      `dead endpoints, ${roles.join(' + ')}: healthy delivery p50 ${latencies[latencies.length >> 1]} ms, p95 ${p95} ms, max ${latencies.at(-1)} ms\n`,
    );
    // The dead endpoints were busy the whole time (else this proves nothing): at 40 slots a worker, 1.5 s each.
    expect(dead.requests.length - before).toBeGreaterThanOrEqual(100);
    expect(p95).toBeLessThanOrEqual(1_200);
  }, 90_000);
});
