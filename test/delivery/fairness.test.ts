import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount } from '../helpers/graphql';
import { startDeliveryServer } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

/**
 * Slots are shared between accounts first: an account with forty webhooks at an endpoint that never
 * answers holds at most `concurrency − endpointConcurrency` of them, so another account's deliveries
 * go out at once instead of waiting behind the timeouts.
 */
describe('fairness between accounts', () => {
  let server: TestServer;
  let hanging: Receiver;
  let fast: Receiver;

  beforeAll(async () => {
    server = await startDeliveryServer({
      shutdownGraceMs: 100,
      webhook: { concurrency: 10, endpointConcurrency: 2, timeoutMs: 1_500, leaseMs: 5_000, retryDelaysMs: [50, 100, 150] },
    });
    hanging = await startReceiver('fairness-secret-0123');
    fast = await startReceiver('fairness-secret-0123');
    hanging.reply(() => ({ hang: true }));
  });
  afterAll(async () => {
    await server.stop();
    await hanging.close();
    await fast.close();
  });

  it("another account's deliveries are not delayed by an account's forty dead endpoints", async () => {
    const greedy = await createAccount(server.app, 'Greedy');
    const victim = await createAccount(server.app, 'Victim');
    for (let i = 0; i < 40; i += 1)
      await createWebhook(server.url, greedy.apiKey, { url: `${hanging.url}/${i}`, events: ['PROJECT_CREATED'], secret: hanging.secret });
    await createWebhook(server.url, victim.apiKey, { url: fast.url, events: ['PROJECT_CREATED'], secret: fast.secret });
    for (let i = 0; i < 5; i += 1) await createProject(server.url, greedy.apiKey, `Greedy ${i}`);
    // The dead endpoints take their whole share before the other account commits anything.
    await waitFor(() => hanging.requests.length >= 8, { what: 'the greedy account to fill its share' });
    expect(server.app.dispatcher!.inFlight).toBe(8);

    const latencies: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const committed = Date.now();
      const project = await createProject(server.url, victim.apiKey, `Victim ${i}`);
      const request = await waitFor(() => fast.requests.find((r) => r.body.data.project.id === project.id), {
        timeoutMs: 5_000,
        what: 'the victim delivery',
      });
      latencies.push(request.receivedAt - committed);
    }
    latencies.sort((a, b) => a - b);
    // An attempt timeout is 1,500 ms: anything near it would mean the victim waited for a dead slot.
    expect(latencies[Math.floor(latencies.length / 2)]).toBeLessThan(300);
    expect(latencies[latencies.length - 1]).toBeLessThan(1_000);
    // The greedy account never held more than its cap (10 − 2).
    expect(server.app.dispatcher!.inFlight).toBeLessThanOrEqual(9);
  }, 30_000);
});
