import { generateWebhookSecret } from '../../src/webhooks/webhook-secret';
import { ensureBuilt } from '../helpers/build';
import { createProject, createWebhook, runBuild } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { ListenProcess, spawnListen } from '../helpers/listen-process';
import { waitForActiveSubscriptions } from '../helpers/live-client';
import { Receiver, startReceiver } from '../helpers/receiver';
import { startTestServer, TestServer } from '../helpers/server';
import { databaseLocation } from '../../src/config';
import { storedEvents } from '../helpers/stored';
import { waitFor } from '../helpers/wait-for';

const SECRET = generateWebhookSecret();

/**
 * The real service in this process, a real `listen` process and a real receiver on 127.0.0.1 that
 * checks both signatures against the secret `listen` was given.
 */
describe('listen', () => {
  let server: TestServer;
  let acme: TestAccount;
  let receiver: Receiver;
  const running: ListenProcess[] = [];
  const eventLog = () => storedEvents(databaseLocation(server.config), acme.accountId);

  /** Starts `listen` on the account and waits until its subscription is in place. */
  async function listen(args: string[], key = acme.apiKey): Promise<ListenProcess> {
    const child = spawnListen(['--url', server.url, ...args], key);
    running.push(child);
    await child.waitForReady();
    await waitForActiveSubscriptions(server.app, running.filter((one) => one.process.exitCode === null).length);
    return child;
  }

  beforeAll(async () => {
    ensureBuilt();
    // Deliveries on, for the comparison with a real webhook delivery.
    server = await startTestServer({ webhook: { dispatch: true } });
    acme = await createAccount(server.app);
    // listen starts after the account's newest event.
    await createProject(server.url, acme.apiKey, 'Before listen');
  }, 120_000);
  beforeEach(async () => {
    receiver = await startReceiver(SECRET);
  });
  afterEach(async () => {
    for (const child of running.splice(0)) expect(await child.stop()).toEqual({ code: 0, signal: null });
    await waitForActiveSubscriptions(server.app, 0);
    await receiver.close();
  });
  afterAll(() => server.stop());

  it('POSTs each event as its webhook delivery: the same body bytes, the same headers, both signatures valid', async () => {
    const webhook = await createWebhook(server.url, acme.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    const child = await listen(['--forward-to', `http://127.0.0.1:${receiver.port}/webhooks/deskforge`, '--secret', SECRET]);
    expect(child.lines.slice(0, 2)).toEqual([
      `Ready! Forwarding every event to http://127.0.0.1:${receiver.port}/webhooks/deskforge (Ctrl-C to quit)`,
      `Signing secret: ${SECRET}`,
    ]);
    // Characters JSON escapes or that take several UTF-8 bytes, so that the bytes have to match exactly.
    const project = await createProject(server.url, acme.apiKey, 'Fenêtre "Δ" \\ </script> 🚀');

    const [delivered, forwarded] = await waitFor(() => {
      const delivery = receiver.requests.find((request) => request.path === '/hook');
      const forward = receiver.requests.find((request) => request.path === '/webhooks/deskforge');
      return delivery && forward && [delivery, forward];
    });
    const [stored] = (await eventLog()).slice(-1);
    expect(forwarded.body.data.project).toEqual({ id: project.id, name: project.name });
    expect(forwarded.raw.toString('utf8')).toBe(stored.payload);
    expect(forwarded.raw.equals(delivered.raw)).toBe(true);
    expect(forwarded.deskforgeValid).toBe(true);
    expect(forwarded.standardValid).toBe(true);
    expect(delivered.deskforgeValid && delivered.standardValid).toBe(true);

    // The same header names; the same values but for the delivery id and the timestamp it signs.
    expect(Object.keys(forwarded.headers).sort()).toEqual(Object.keys(delivered.headers).sort());
    for (const name of ['content-type', 'content-length', 'user-agent', 'x-deskforge-event', 'x-deskforge-signature', 'webhook-id']) {
      expect([name, forwarded.headers[name]]).toEqual([name, delivered.headers[name]]);
    }
    expect(forwarded.headers['x-deskforge-event']).toBe('project.created');
    expect(forwarded.headers['webhook-id']).toBe(stored.id);
    expect(forwarded.headers['x-deskforge-delivery']).toMatch(/^dlv_[0-9A-Za-z]{24}$/);
    expect(forwarded.headers['x-deskforge-delivery']).not.toBe(delivered.headers['x-deskforge-delivery']);
    expect(Math.abs(Number(forwarded.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(60);

    const [line] = await child.waitForLines(1, (one) => one.includes(stored.id));
    expect(line).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z  project\\.created  ${stored.id}  -> 200  \\d+ ms$`));
    await server.app.services.webhooks.delete(acme.accountId, webhook.id);
  });

  it('--events keeps only those types, in commit order; --json prints the ready object, then one object per forward', async () => {
    const child = await listen(['--forward-to', receiver.url, '--secret', SECRET, '--events', 'build.succeeded,build.failed', '--json']);
    const project = await createProject(server.url, acme.apiKey, 'Filtered');
    await runBuild(server.url, acme.apiKey, project.id);
    await runBuild(server.url, acme.apiKey, project.id, { status: 'FAILED', error: 'Code signing failed' });
    await runBuild(server.url, acme.apiKey, project.id);

    const wanted = (await eventLog()).filter((event) => event.type === 'build.succeeded' || event.type === 'build.failed').slice(-3);
    await waitFor(() => receiver.requests.length >= 3, { what: 'three forwards' });
    const lines = await child.waitForLines(4);
    expect(receiver.requests.map((request) => [request.headers['webhook-id'], request.headers['x-deskforge-event']])).toEqual(
      wanted.map((event) => [event.id, event.type]),
    );
    expect(receiver.requests.map((request) => request.raw.toString('utf8'))).toEqual(wanted.map((event) => event.payload));
    expect(receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      { ready: true, secret: SECRET },
      ...wanted.map((event) => ({ eventId: event.id, type: event.type, status: 200, durationMs: expect.any(Number) })),
    ]);
    expect(Object.keys(JSON.parse(lines[1]))).toEqual(['eventId', 'type', 'status', 'durationMs']);
  });

  it('goes on when the local endpoint is down: prints the failure, and later events arrive once it is up', async () => {
    const port = receiver.port;
    await receiver.close();
    const child = await listen(['--forward-to', `http://127.0.0.1:${port}/hook`, '--secret', SECRET, '--json']);

    const project = await createProject(server.url, acme.apiKey, 'While down');
    const [, refused] = await child.waitForLines(2);
    const [whileDown] = (await eventLog()).slice(-1);
    expect(JSON.parse(refused)).toEqual({
      eventId: whileDown.id,
      type: 'project.created',
      status: null,
      durationMs: expect.any(Number),
      error: expect.stringContaining('ECONNREFUSED'),
    });

    receiver = await startReceiver(SECRET, port);
    receiver.reply(() => ({ status: 503, body: 'warming up' }));
    await runBuild(server.url, acme.apiKey, project.id);
    const events = (await eventLog()).slice(-3);
    const lines = (await child.waitForLines(5)).slice(2).map((line) => JSON.parse(line));
    expect(lines.map((line) => [line.eventId, line.status])).toEqual(events.map((event) => [event.id, 503]));
    expect(receiver.requests.map((request) => request.headers['webhook-id'])).toEqual(events.map((event) => event.id));
    expect(child.process.exitCode).toBeNull();
  });

  it('exits 1 with a clear message when the service refuses the key', async () => {
    const child = spawnListen(['--url', server.url, '--forward-to', receiver.url], 'dfk_not-a-key-of-this-service-0123456789');
    const exit = await child.exited;
    expect(exit).toEqual({ code: 1, signal: null });
    expect(child.stderr).toMatch(
      /^listen: the service refused the API key \(4403: A valid API key is required.*\): check DESKFORGE_API_KEY\n$/,
    );
    expect(child.lines).toEqual([]);
  });

  it('exits 1 when its key is revoked while it runs', async () => {
    const created = await gqlOk(server.url, 'mutation { createApiKey(name: "listen") { key apiKey { id } } }', {}, acme.apiKey);
    const child = await listen(['--forward-to', receiver.url], created.createApiKey.key);
    await gqlOk(server.url, 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: created.createApiKey.apiKey.id }, acme.apiKey);
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(child.stderr).toBe('listen: the service refused the API key (4403: API key revoked): check DESKFORGE_API_KEY\n');
    running.splice(running.indexOf(child), 1);
  });

  it.each([
    ['no --forward-to', []],
    ['a --forward-to without a scheme', ['--forward-to', 'localhost:3000/webhooks/deskforge']],
    ['a --forward-to that is no URL', ['--forward-to', 'not a url']],
    ['an unknown flag', ['--forward-to', 'http://localhost:3000/hook', '--verbose']],
    ['an unknown event name', ['--forward-to', 'http://localhost:3000/hook', '--events', 'build.done']],
  ])('prints the usage and exits 2 for %s', async (_what, args) => {
    const child = spawnListen(['--url', server.url, ...args], acme.apiKey);
    expect(await child.exited).toEqual({ code: 2, signal: null });
    expect(child.stderr).toMatch(
      /^listen: .+\n\nusage: DESKFORGE_API_KEY=dfk_… npm run --silent listen -- --forward-to <url> \[options\]\n/,
    );
    expect(child.lines).toEqual([]);
  });
});
