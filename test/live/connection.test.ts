import { randomBytes } from 'node:crypto';
import { createProject, UPDATE_PROJECT } from '../helpers/fixtures';
import { createAccount, gql, gqlOk, TestAccount } from '../helpers/graphql';
import {
  activeSubscriptions,
  connectLive,
  connectLiveOk,
  LiveClient,
  openRawSocket,
  waitForActiveSubscriptions,
} from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const EVENTS = 'subscription { events { id type } }';

describe('live connections', () => {
  let server: TestServer;
  let acme: TestAccount;
  const clients: LiveClient[] = [];
  const track = (live: LiveClient) => {
    clients.push(live);
    return live;
  };

  beforeAll(async () => {
    server = await startTestServer({
      live: { connectionInitTimeoutMs: 500, keepAliveMs: 250, subscriptionsPerConnection: 3 },
      limits: { queryDepth: 5 },
    });
    acme = await createAccount(server.app, 'Acme');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((live) => live.close()));
    await waitForActiveSubscriptions(server.app, 0);
  });
  afterAll(() => server.stop());

  /** A subscribed client that must keep receiving while other sockets misbehave. */
  async function bystander(): Promise<() => Promise<void>> {
    const project = await createProject(server.url, acme.apiKey, 'Bystander');
    const live = track(await connectLiveOk(server.wsUrl, acme.apiKey));
    const sub = live.subscribe(`subscription ($id: ID) { events(projectId: $id) { id } }`, { id: project.id });
    await waitFor(async () => (await activeSubscriptions(server.app)) >= 1);
    let updates = 0;
    return async () => {
      updates += 1;
      await gqlOk(server.url, UPDATE_PROJECT, { id: project.id, name: `update ${updates}` }, acme.apiKey);
      await sub.waitForData(updates);
    };
  }

  it('closes with 4403 when the key is missing, unknown or malformed', async () => {
    const attempts = [
      connectLive(server.wsUrl),
      connectLive(server.wsUrl, `dfk_${randomBytes(32).toString('base64url')}`),
      connectLive(server.wsUrl, undefined, { authorization: acme.apiKey }),
      connectLive(server.wsUrl, undefined, { authorization: `Token ${acme.apiKey}` }),
      connectLive(server.wsUrl, undefined, { authorization: 42 }),
    ];
    let connected = 0;
    for (const attempt of attempts) attempt.client.on('connected', () => (connected += 1));
    const closes = await Promise.all(attempts.map((attempt) => attempt.closed));
    expect(closes).toEqual(
      attempts.map(() => ({
        code: 4403,
        reason: "A valid API key is required: send connectionParams { authorization: 'Bearer <apiKey>' }",
      })),
    );
    expect(connected).toBe(0);
  });

  it('accepts the key under any letter case, as GraphiQL sends its headers', async () => {
    const live = track(connectLive(server.wsUrl, undefined, { Authorization: `bearer ${acme.apiKey}` }));
    const viewer = live.subscribe('{ viewer { id name } }');
    await viewer.waitForEnd();
    expect(viewer.data).toEqual([{ viewer: { id: acme.accountId, name: 'Acme' } }]);
  });

  it('closes live connections of a revoked key and refuses it afterwards', async () => {
    const created = await gqlOk(server.url, 'mutation { createApiKey(name: "ci") { key apiKey { id } } }', {}, acme.apiKey);
    const { key, apiKey } = created.createApiKey;
    const doomed = track(await connectLiveOk(server.wsUrl, key));
    doomed.subscribe(EVENTS);
    const survivor = await bystander();
    await waitForActiveSubscriptions(server.app, 2);

    await gqlOk(server.url, 'mutation ($id: ID!) { revokeApiKey(id: $id) { id } }', { id: apiKey.id }, acme.apiKey);
    expect(await doomed.closed).toEqual({ code: 4403, reason: 'API key revoked' });
    await waitForActiveSubscriptions(server.app, 1);
    expect(await connectLive(server.wsUrl, key).closed).toMatchObject({ code: 4403 });
    await survivor();
  });

  it('closes a socket that never sends connection_init with 4408', async () => {
    const raw = await openRawSocket(server.wsUrl);
    expect(await raw.closed).toEqual({ code: 4408, reason: 'Connection initialisation timeout' });
  });

  it('closes only the offending socket on garbage, wrong protocols and oversized frames', async () => {
    const survivor = await bystander();

    const notJson = await openRawSocket(server.wsUrl);
    notJson.send('{"type": "connection_init", "payload": {"authorization": "Bearer ');
    expect(await notJson.closed).toMatchObject({ code: 4400 });

    const unknownType = await openRawSocket(server.wsUrl);
    unknownType.send({ type: 'connection_init', payload: { authorization: `Bearer ${acme.apiKey}` } });
    await waitFor(() => unknownType.messages.length === 1);
    expect(unknownType.messages).toEqual([{ type: 'connection_ack' }]);
    unknownType.send({ type: 'start', id: '1', payload: { query: EVENTS } });
    expect(await unknownType.closed).toMatchObject({ code: 4400 });

    const beforeAck = await openRawSocket(server.wsUrl);
    beforeAck.send({ type: 'subscribe', id: '1', payload: { query: EVENTS } });
    expect(await beforeAck.closed).toEqual({ code: 4401, reason: 'Unauthorized' });

    const badFrame = await openRawSocket(server.wsUrl);
    // Bytes that are no WebSocket frame at all (reserved bits set, unknown opcode, unmasked).
    (badFrame.socket as unknown as { _socket: { write(data: Buffer): void } })._socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    expect((await badFrame.closed).code).toBe(1002);

    const huge = await openRawSocket(server.wsUrl);
    huge.send({ type: 'connection_init', payload: { authorization: 'x'.repeat(server.config.limits.bodyBytes + 1) } });
    expect((await huge.closed).code).toBe(1009);

    // The retired subscriptions-transport-ws protocol is not agreed to: the handshake fails.
    await expect(openRawSocket(server.wsUrl, ['graphql-ws'])).rejects.toThrow('closed before opening');
    // No subprotocol at all: graphql-ws refuses the socket.
    const noProtocol = await openRawSocket(server.wsUrl, []);
    expect(await noProtocol.closed).toEqual({ code: 4406, reason: 'Subprotocol not acceptable' });

    await survivor();
  });

  it('drops a socket that stops answering pings, and keeps those that answer', async () => {
    const survivor = await bystander();
    const deaf = await openRawSocket(server.wsUrl, ['graphql-transport-ws'], { autoPong: false });
    deaf.send({ type: 'connection_init', payload: { authorization: `Bearer ${acme.apiKey}` } });
    // The server gives up after two ping intervals without a pong and cuts the socket (no close frame).
    expect((await deaf.closed).code).toBe(1006);
    await survivor();
  });

  it('refuses a subscription over HTTP with 400, pointing to the WebSocket', async () => {
    const response = await gql(server.url, EVENTS, {}, acme.apiKey);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions?.code).toBe('BAD_REQUEST');
    expect(response.errors?.[0].message).toMatch(/WebSocket/);
    expect(response.data).toBeUndefined();
  });

  it('caps the operations of one connection; the others go on', async () => {
    const live = track(await connectLiveOk(server.wsUrl, acme.apiKey));
    const subs = [1, 2, 3].map(() => live.subscribe(EVENTS));
    await waitForActiveSubscriptions(server.app, 3);
    const extra = live.subscribe(EVENTS);
    await extra.waitForEnd();
    expect(extra.error).toEqual([
      expect.objectContaining({ message: 'At most 3 operations may run at once on one connection', extensions: { code: 'BAD_REQUEST' } }),
    ]);

    await createProject(server.url, acme.apiKey, 'Capped');
    for (const sub of subs) await sub.waitForData(1);
    // A slot freed is a slot usable again.
    subs[0].unsubscribe();
    await waitForActiveSubscriptions(server.app, 2);
    live.subscribe(EVENTS);
    await waitForActiveSubscriptions(server.app, 3);
  });

  it('validates like HTTP: syntax, unknown fields, depth limit, variables; no stack traces', async () => {
    const live = track(await connectLiveOk(server.wsUrl, acme.apiKey));
    const run = async (query: string, variables?: Record<string, unknown>) => {
      const sub = live.subscribe(query, variables);
      await sub.waitForEnd();
      return sub;
    };
    const syntax = await run('subscription { events { id }');
    expect(syntax.error).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_PARSE_FAILED' } })]);
    const unknown = await run('subscription { events { id secret } }');
    expect(unknown.error).toEqual([
      expect.objectContaining({ message: expect.stringContaining('secret'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } }),
    ]);
    const deep = await run('subscription { deliveryUpdated { webhook { deliveries { nodes { event { id } } } } } }');
    expect(deep.error).toEqual([expect.objectContaining({ extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    const badVariable = await run('subscription ($types: [EventType!]) { events(types: $types) { id } }', { types: ['BUILD_EXPLODED'] });
    expect(badVariable.results).toEqual([
      { errors: [expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'types' } })] },
    ]);
    expect(badVariable.completed).toBe(true);
    expect(JSON.stringify([syntax.error, unknown.error, deep.error, badVariable.results])).not.toMatch(/stack|at .*\.ts/);
    await waitForActiveSubscriptions(server.app, 0);
  });
});
