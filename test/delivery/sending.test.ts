import { createServer } from 'node:net';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { getDelivery, listDeliveries, startDeliveryServer, waitForEnded, webhookHealth } from '../helpers/deliveries';
import { Receiver, standardSignatureValid, startReceiver } from '../helpers/receiver';
import { TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';
import { sql } from '../helpers/test-database';

const WHSEC = `whsec_${Buffer.alloc(32, 42).toString('base64')}`;
const TIMEOUT_MS = 400;

describe('sending webhooks to a real receiver', () => {
  let server: TestServer;
  let account: TestAccount;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startDeliveryServer({ webhook: { timeoutMs: TIMEOUT_MS, retryDelaysMs: [50, 100, 150] } });
  });
  afterAll(() => server.stop());
  beforeEach(async () => {
    // A fresh account per test: earlier tests' webhooks never receive this test's events.
    account = await createAccount(server.app);
    receiver = await startReceiver(WHSEC);
  });
  afterEach(() => receiver.close());

  /** A webhook on the receiver for PROJECT_CREATED, then one event; returns the ids. */
  async function deliverOne(secret = WHSEC, url = receiver.url): Promise<{ webhookId: string; projectName: string }> {
    receiver.secret = secret;
    const webhook = await createWebhook(server.url, account.apiKey, { url, events: ['PROJECT_CREATED'], secret });
    const projectName = `Project for ${webhook.id}`;
    await createProject(server.url, account.apiKey, projectName);
    return { webhookId: webhook.id, projectName };
  }

  async function storedPayload(eventId: string): Promise<string> {
    const [row] = await sql(server.app.db.reader, 'SELECT payload FROM events WHERE id = ?', [eventId]);
    return row.payload;
  }

  it.each([
    ['a generated-style whsec_ secret', WHSEC],
    ['the DeskForge page example secret', 'your_webhook_secret'],
  ])('POSTs the stored body unchanged with every contract header, both signatures valid (%s)', async (_, secret) => {
    const { webhookId } = await deliverOne(secret);
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, nextAttemptAt: null });
    expect(delivery.attempts).toEqual([
      { number: 1, startedAt: expect.any(String), durationMs: expect.any(Number), responseStatus: 200, responseBody: 'ok', error: null },
    ]);
    expect(delivery.completedAt).not.toBeNull();

    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    expect(request.raw.toString('utf8')).toBe(await storedPayload(delivery.event.id));
    expect(request.body).toMatchObject({ id: delivery.event.id, type: 'project.created', data: { project: { name: expect.any(String) } } });
    expect(request.headers).toMatchObject({
      'content-type': 'application/json',
      'user-agent': expect.stringMatching(/^DeskForge-Webhooks\/\d+\.\d+\.\d+/),
      'x-deskforge-event': 'project.created',
      'x-deskforge-delivery': delivery.id,
      'webhook-id': delivery.event.id,
      'webhook-timestamp': expect.stringMatching(/^\d{10}$/),
      'webhook-signature': expect.stringMatching(/^v1,\S+$/),
      connection: 'keep-alive',
    });
    expect(Math.abs(Number(request.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(5);
    expect(request.deskforgeValid).toBe(true);
    expect(request.standardValid).toBe(true);
    expect(standardSignatureValid(request.raw, request.headers, 'some_other_secret_value')).toBe(false);
  });

  it('is refused by the standardwebhooks library when replayed outside its tolerance', async () => {
    await deliverOne();
    const [request] = await waitFor(() => receiver.requests.length === 1 && receiver.requests);
    expect(standardSignatureValid(request.raw, request.headers, WHSEC)).toBe(true);
    const later = Date.now() + 6 * 60 * 1000;
    const clock = jest.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(standardSignatureValid(request.raw, request.headers, WHSEC)).toBe(false);
    } finally {
      clock.mockRestore();
    }
  });

  it('signs webhook-signature with the old and the new secret after a rotation; X-DeskForge-Signature with the new one', async () => {
    const oldSecret = 'old-secret-0123456789';
    const webhook = await createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_UPDATED'], secret: oldSecret });
    const rotated = await gqlOk(
      server.url,
      'mutation ($id: ID!) { rotateWebhookSecret(id: $id, secret: "new-secret-0123456789") { secret } }',
      { id: webhook.id },
      account.apiKey,
    );
    const newSecret = rotated.rotateWebhookSecret.secret as string;
    receiver.secret = newSecret;
    const project = await createProject(server.url, account.apiKey, 'Rotating');
    await gqlOk(
      server.url,
      'mutation ($id: ID!) { updateProject(id: $id, input: { name: "Rotated" }) { id } }',
      { id: project.id },
      account.apiKey,
    );
    const [request] = await waitFor(() => receiver.requests.length === 1 && receiver.requests);
    expect((request.headers['webhook-signature'] as string).split(' ')).toHaveLength(2);
    expect(request.deskforgeValid).toBe(true);
    expect(standardSignatureValid(request.raw, request.headers, newSecret)).toBe(true);
    expect(standardSignatureValid(request.raw, request.headers, oldSecret)).toBe(true);
  });

  it('retries 500, 500, 200 as the same delivery with the same body, and succeeds on the third attempt', async () => {
    receiver.reply((request) => (request.index <= 2 ? { status: 500, body: `boom ${request.index}` } : {}));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(delivery.attemptCount).toBe(3);
    expect(delivery.attempts.map((a) => [a.number, a.responseStatus, a.responseBody])).toEqual([
      [1, 500, 'boom 1'],
      [2, 500, 'boom 2'],
      [3, 200, 'ok'],
    ]);
    expect(receiver.requests).toHaveLength(3);
    expect(new Set(receiver.requests.map((r) => r.headers['x-deskforge-delivery']))).toEqual(new Set([delivery.id]));
    expect(new Set(receiver.requests.map((r) => r.raw.toString('utf8'))).size).toBe(1);
    expect(receiver.requests.every((r) => r.deskforgeValid && r.standardValid)).toBe(true);
    // The configured delays (50 ms, then 100 ms) separate the attempts.
    const gaps = [1, 2].map((i) => receiver.requests[i].receivedAt - receiver.requests[i - 1].receivedAt);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect((await webhookHealth(server, account.apiKey, webhookId)).consecutiveFailures).toBe(0);
  });

  it('publishes every stored outcome on the bus (for deliveryUpdated), only after its commit', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 500 } : {}));
    const seen: Array<Promise<{ published: string; stored: string; attempts: number }>> = [];
    const unsubscribe = server.app.bus.subscribe('delivery', (update) => {
      if (update.accountId !== account.accountId) return;
      seen.push(
        sql(server.app.db.reader, 'SELECT status, "attemptCount" FROM deliveries WHERE id = ?', [update.id]).then(
          ([row]: Array<{ status: string; attemptCount: number }>) => ({
            published: update.status,
            stored: row.status,
            attempts: row.attemptCount,
          }),
        ),
      );
    });
    try {
      const { webhookId } = await deliverOne();
      await waitForEnded(server, account.apiKey, 1, webhookId);
      await waitFor(() => seen.length === 2);
      expect(await Promise.all(seen)).toEqual([
        { published: 'pending', stored: 'pending', attempts: 1 },
        { published: 'succeeded', stored: 'succeeded', attempts: 2 },
      ]);
    } finally {
      unsubscribe();
    }
  });

  it('ends FAILED after 1 + retries attempts when the endpoint always fails, and counts one failure', async () => {
    receiver.reply(() => ({ status: 500 }));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery).toMatchObject({ status: 'FAILED', attemptCount: 4, nextAttemptAt: null });
    expect(delivery.attempts.map((a) => a.responseStatus)).toEqual([500, 500, 500, 500]);
    expect(receiver.requests).toHaveLength(4);
    expect(await webhookHealth(server, account.apiKey, webhookId)).toEqual({ active: true, disabledReason: null, consecutiveFailures: 1 });
  });

  it('records a timeout when the endpoint does not answer in time', async () => {
    receiver.reply((request) => (request.index === 1 ? { hang: true } : {}));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.status).toBe('SUCCEEDED');
    const [first, second] = delivery.attempts;
    expect(first).toMatchObject({ responseStatus: null, responseBody: null, error: `timeout after ${TIMEOUT_MS} ms` });
    expect(first.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
    expect(first.durationMs).toBeLessThan(TIMEOUT_MS + 300);
    expect(second).toMatchObject({ responseStatus: 200, error: null });
  });

  it('keeps a 2xx whose body then stalls as a success: one request, the body read so far', async () => {
    receiver.reply(() => ({ status: 200, stallBody: 'accepted, still' }));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery).toMatchObject({ status: 'SUCCEEDED', attemptCount: 1, nextAttemptAt: null });
    expect(delivery.attempts).toEqual([
      {
        number: 1,
        startedAt: expect.any(String),
        durationMs: expect.any(Number),
        responseStatus: 200,
        responseBody: 'accepted, still',
        error: null,
      },
    ]);
    expect(delivery.attempts[0].durationMs).toBeLessThan(TIMEOUT_MS + 300);
    expect(receiver.requests).toHaveLength(1);
    expect(await webhookHealth(server, account.apiKey, webhookId)).toEqual({ active: true, disabledReason: null, consecutiveFailures: 0 });
  });

  it('records ECONNREFUSED when nothing listens', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const { webhookId } = await deliverOne(WHSEC, `http://127.0.0.1:${closedPort}/hook`);
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.status).toBe('FAILED');
    expect(delivery.attempts).toHaveLength(4);
    for (const attempt of delivery.attempts) {
      expect(attempt.responseStatus).toBeNull();
      expect(attempt.error).toContain('ECONNREFUSED');
    }
  });

  it('does not follow redirects: a 3xx fails the attempt', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' } } : {}));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.attempts[0]).toMatchObject({ responseStatus: 302, error: 'redirect to http://127.0.0.1:1/elsewhere not followed' });
    expect(delivery.status).toBe('SUCCEEDED');
    expect(receiver.requests.map((r) => r.path)).toEqual(['/hook', '/hook']);
  });

  it('keeps only the first 4 KiB of a response body', async () => {
    receiver.reply(() => ({ status: 200, body: 'x'.repeat(4096) + 'y'.repeat(100_000) }));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.attempts[0].responseBody).toBe('x'.repeat(4096));
  });

  it('honours Retry-After on 503 instead of the configured delay', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 503, headers: { 'retry-after': '1' } } : {}));
    const { webhookId } = await deliverOne();
    const [delivery] = await waitForEnded(server, account.apiKey, 1, webhookId);
    expect(delivery.status).toBe('SUCCEEDED');
    expect(receiver.requests[1].receivedAt - receiver.requests[0].receivedAt).toBeGreaterThanOrEqual(990);
  });

  it('schedules a Retry-After beyond one hour at one hour', async () => {
    receiver.reply(() => ({ status: 429, headers: { 'retry-after': '86400' } }));
    const { webhookId } = await deliverOne();
    const delivery = await waitFor(async () => {
      const [d] = await listDeliveries(server, account.apiKey, webhookId);
      return d?.attemptCount === 1 && d;
    });
    expect(delivery.status).toBe('PENDING');
    const wait = Date.parse(delivery.nextAttemptAt!) - Date.parse(delivery.attempts[0].startedAt);
    expect(wait).toBeGreaterThan(3_590_000);
    expect(wait).toBeLessThanOrEqual(3_600_000 + 1_000);
  });

  it('counts outcomes, attempt durations and the queue in GET /metrics', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 500 } : {}));
    const { webhookId } = await deliverOne();
    await waitForEnded(server, account.apiKey, 1, webhookId);
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1]);
    expect(value(/^deskforge_webhook_deliveries_total\{outcome="succeeded"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^deskforge_webhook_deliveries_total\{outcome="retried"\} (\d+)$/m)).toBeGreaterThanOrEqual(1);
    expect(value(/^deskforge_webhook_attempt_duration_seconds_count (\d+)$/m)).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^deskforge_webhook_queue_size \d+$/m);
    expect(text).toMatch(/^deskforge_webhook_attempts_in_flight \d+$/m);
  });

  it('reuses kept-alive connections', async () => {
    const webhook = await createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: WHSEC });
    for (let i = 0; i < 5; i += 1) {
      await createProject(server.url, account.apiKey, `Sequential ${i}`);
      await waitFor(() => receiver.requests.length === i + 1);
    }
    await waitForEnded(server, account.apiKey, 5, webhook.id);
    expect(receiver.connections).toBe(1);
  });

  it('shows each attempt through the delivery query', async () => {
    receiver.reply((request) => (request.index === 1 ? { status: 400, body: '{"error":"bad"}' } : { status: 204, body: '' }));
    const { webhookId } = await deliverOne();
    const [ended] = await waitForEnded(server, account.apiKey, 1, webhookId);
    const delivery = await getDelivery(server, account.apiKey, ended.id);
    expect(delivery?.attempts.map((a) => [a.responseStatus, a.responseBody])).toEqual([
      [400, '{"error":"bad"}'],
      [204, ''],
    ]);
  });
});
