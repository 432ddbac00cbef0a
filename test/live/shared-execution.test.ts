import { execute, parse } from 'graphql';
import { CommittedEvent } from '../../src/event-bus';
import { EventType } from '../../src/events/event-type';
import { createSchema } from '../../src/graphql/schema';
import { createProject, UPDATE_PROJECT } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { connectLiveOk, LiveClient, openRawSocket, RawSocket, waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

/**
 * Subscribers that agree on document, operation name, variables and account share one execution per
 * event (src/graphql/shared-execution.ts). Seen from outside, nothing may change: each subscriber
 * gets exactly its own selection, filters and account, on the same wire bytes as before.
 */
const EVENTS = `subscription ($types: [EventType!], $projectId: ID) {
  events(types: $types, projectId: $projectId) { id type createdAt data { project { id name } } }
}`;

describe('shared execution of live subscriptions', () => {
  let server: TestServer;
  let acme: TestAccount;
  const clients: LiveClient[] = [];
  const sockets: RawSocket[] = [];
  const connect = async (key: string) => {
    const live = await connectLiveOk(server.wsUrl, key);
    clients.push(live);
    return live;
  };
  const rename = (projectId: string, name: string, key = acme.apiKey) => gqlOk(server.url, UPDATE_PROJECT, { id: projectId, name }, key);

  beforeAll(async () => {
    server = await startTestServer();
    acme = await createAccount(server.app, 'Acme');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((live) => live.close()));
    for (const { socket } of sockets.splice(0)) socket.terminate();
    await waitForActiveSubscriptions(server.app, 0);
  });
  afterAll(() => server.stop());

  it('sends subscribers of the same document the same payload, framed with their own ids as graphql-ws frames it', async () => {
    const project = await createProject(server.url, acme.apiKey, 'Shared');
    const frames: string[][] = [[], []];
    for (const [index, id] of ['first', 'second-one'].entries()) {
      const raw = await openRawSocket(server.wsUrl);
      sockets.push(raw);
      raw.socket.on('message', (data) => frames[index].push(String(data)));
      raw.send({ type: 'connection_init', payload: { authorization: `Bearer ${acme.apiKey}` } });
      await waitFor(() => raw.messages.some((message) => message.type === 'connection_ack'));
      raw.send({ id, type: 'subscribe', payload: { query: EVENTS, variables: { projectId: project.id } } });
    }
    await waitForActiveSubscriptions(server.app, 2);

    await rename(project.id, 'one');
    await rename(project.id, 'two');
    await waitFor(() => frames.every((received) => received.length === 3), { what: 'ack and two events on both sockets' });

    const nexts = frames.map((received) => received.slice(1));
    const parsed = nexts.map((received) => received.map((frame) => JSON.parse(frame)));
    expect(parsed[0].map((message) => message.payload.data.events.data.project.name)).toEqual(['one', 'two']);
    expect(parsed[1].map((message) => message.payload)).toEqual(parsed[0].map((message) => message.payload));
    // Byte for byte what graphql-ws's own `JSON.stringify({ id, type, payload })` gives.
    for (const received of parsed) for (const message of received) expect(message.type).toBe('next');
    nexts.forEach((received, index) =>
      received.forEach((frame, n) =>
        expect(frame).toBe(JSON.stringify({ id: parsed[index][n].id, type: 'next', payload: parsed[index][n].payload })),
      ),
    );
    expect(parsed.map((received) => received.map((message) => message.id))).toEqual([
      ['first', 'first'],
      ['second-one', 'second-one'],
    ]);
  });

  it('gives each selection set on the same event exactly its own fields', async () => {
    const project = await createProject(server.url, acme.apiKey, 'Selections');
    const live = await connect(acme.apiKey);
    const idType = live.subscribe(`subscription { events(projectId: "${project.id}") { id type } }`);
    const named = live.subscribe(`subscription { events(projectId: "${project.id}") { id data { project { name } } } }`);
    const aliased = live.subscribe(`subscription { e: events(projectId: "${project.id}") { kind: type } }`);
    await waitForActiveSubscriptions(server.app, 3);

    await rename(project.id, 'renamed');
    const [[first], [second], [third]] = await Promise.all([idType.waitForData(1), named.waitForData(1), aliased.waitForData(1)]);
    expect(first).toEqual({ events: { id: expect.any(String), type: 'PROJECT_UPDATED' } });
    expect(second).toEqual({ events: { id: first.events.id, data: { project: { name: 'renamed' } } } });
    expect(third).toEqual({ e: { kind: 'PROJECT_UPDATED' } });
  });

  it("keeps each subscriber's filters and account on the same document", async () => {
    const globex = await createAccount(server.app, 'Globex');
    const projectA = await createProject(server.url, acme.apiKey, 'A');
    const projectB = await createProject(server.url, acme.apiKey, 'B');
    const [acme1, acme2, globexLive] = [await connect(acme.apiKey), await connect(acme.apiKey), await connect(globex.apiKey)];
    const onlyA = acme1.subscribe(EVENTS, { projectId: projectA.id });
    const onlyB = acme2.subscribe(EVENTS, { projectId: projectB.id });
    const allAcme = acme2.subscribe(EVENTS);
    const allAcmeToo = acme1.subscribe(EVENTS);
    const globexAll = globexLive.subscribe(EVENTS);
    const globexOnlyA = globexLive.subscribe(EVENTS, { projectId: projectA.id });
    await waitForActiveSubscriptions(server.app, 6);

    await rename(projectA.id, 'A2');
    await rename(projectB.id, 'B2');
    const globexProject = await createProject(server.url, globex.apiKey, 'G');

    await allAcme.waitForData(2);
    await allAcmeToo.waitForData(2);
    await globexAll.waitForData(1);
    const names = (sub: { data: Array<{ events: { data: { project: { name: string } } } }> }) =>
      sub.data.map((data) => data.events.data.project.name);
    expect(names(onlyA)).toEqual(['A2']);
    expect(names(onlyB)).toEqual(['B2']);
    expect(names(allAcme)).toEqual(['A2', 'B2']);
    expect(allAcmeToo.data).toEqual(allAcme.data);
    expect(globexAll.data.map((data) => data.events.data.project.id)).toEqual([globexProject.id]);
    expect(globexOnlyA.data).toEqual([]);
  });

  it("is not disturbed by another subscriber's error, unsubscribe or disconnect", async () => {
    const project = await createProject(server.url, acme.apiKey, 'Steady');
    const first = await connect(acme.apiKey);
    const second = await connect(acme.apiKey);
    const leaving = first.subscribe(EVENTS, { projectId: project.id });
    const staying = second.subscribe(EVENTS, { projectId: project.id });
    const unsubscribing = second.subscribe(EVENTS, { projectId: project.id });
    await waitForActiveSubscriptions(server.app, 3);
    const failing = second.subscribe(EVENTS, { projectId: project.id, types: ['NOT_A_TYPE'] });
    await failing.waitForEnd();
    // Variables that do not coerce: one result with the error, then `complete`.
    expect(failing.results).toEqual([
      { errors: [expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) })] },
    ]);

    await rename(project.id, 'one');
    await Promise.all([leaving.waitForData(1), staying.waitForData(1), unsubscribing.waitForData(1)]);
    unsubscribing.unsubscribe();
    await first.close();
    clients.splice(clients.indexOf(first), 1);
    await waitForActiveSubscriptions(server.app, 1);

    await rename(project.id, 'two');
    await rename(project.id, 'three');
    await staying.waitForData(3);
    expect(staying.data.map((data) => data.events.data.project.name)).toEqual(['one', 'two', 'three']);
    expect(staying.error).toBeUndefined();
    expect(unsubscribing.data).toHaveLength(1);
  });

  it("resolves an event for its subscribers without a promise, so it is written on the publisher's stack", async () => {
    const schema = await createSchema();
    const createdAt = new Date('2026-01-02T03:04:05.000Z');
    const body = {
      id: 'evt_1',
      type: 'project.updated',
      createdAt: createdAt.toISOString(),
      data: { project: { id: 'proj_1', name: 'Sync' } },
    };
    const event: CommittedEvent = {
      id: 'evt_1',
      accountId: 'acct_1',
      type: EventType.PROJECT_UPDATED,
      projectId: 'proj_1',
      createdAt,
      payload: JSON.stringify(body),
      position: 1,
    };
    const result = execute({
      schema,
      document: parse(
        'subscription ($types: [EventType!]) { events(types: $types) { id type createdAt payload data { project { name } build { id } } } }',
      ),
      variableValues: { types: ['PROJECT_UPDATED'] },
      rootValue: event,
      contextValue: { viewer: { accountId: 'acct_1', apiKeyId: 'key_1' }, services: {} },
    });
    expect(result).not.toBeInstanceOf(Promise);
    expect(result).toEqual({
      data: {
        events: { id: 'evt_1', type: 'PROJECT_UPDATED', createdAt, payload: body, data: { project: { name: 'Sync' }, build: null } },
      },
    });
  });
});
