import { Socket } from 'node:net';
import { CommittedEvent } from '../../src/event-bus';
import { EventType } from '../../src/events/event-type';
import { createAccount, TestAccount } from '../helpers/graphql';
import {
  activeSubscriptions,
  connectLiveOk,
  LiveClient,
  openRawSocket,
  pausableWebSocket,
  RawSocket,
  waitForActiveSubscriptions,
} from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

const BUFFER = 20;

/** A committed event with a large body, published straight on the bus (the outbox limits real names). */
function bigEvent(account: TestAccount, n: number): CommittedEvent {
  const id = `evt_big${n}`;
  const createdAt = new Date();
  const body = {
    id,
    type: EventType.PROJECT_UPDATED,
    createdAt: createdAt.toISOString(),
    data: { project: { id: 'proj_big', name: 'x'.repeat(64 * 1024) } },
  };
  return {
    id,
    accountId: account.accountId,
    type: EventType.PROJECT_UPDATED,
    projectId: 'proj_big',
    createdAt,
    payload: JSON.stringify(body),
    position: 1,
  };
}

describe('a slow subscriber', () => {
  let server: TestServer;
  let acme: TestAccount;
  let fast: LiveClient;
  let slow: RawSocket;

  beforeAll(async () => {
    server = await startTestServer({ live: { bufferSize: BUFFER } });
    acme = await createAccount(server.app, 'Acme');
  });
  afterAll(async () => {
    await fast?.close();
    slow?.socket.terminate();
    await server.stop();
  });

  const dropped = async () => (await server.app.metrics.subscribersDropped.get()).values[0]?.value ?? 0;

  it('is disconnected with 1013 once a buffer behind, while the others get every event', async () => {
    slow = await openRawSocket(server.wsUrl);
    slow.send({ type: 'connection_init', payload: { authorization: `Bearer ${acme.apiKey}` } });
    await waitFor(() => slow.messages.some((message) => message.type === 'connection_ack'));
    slow.send({ type: 'subscribe', id: 'slow', payload: { query: 'subscription { events { id payload } }' } });
    fast = await connectLiveOk(server.wsUrl, acme.apiKey);
    const fastSub = fast.subscribe<{ events: { id: string } }>('subscription { events { id } }');
    await waitForActiveSubscriptions(server.app, 2);
    // The slow client stops reading: the OS buffers fill, then its server-side buffer.
    const tcp = (slow.socket as unknown as { _socket: Socket })._socket;
    tcp.pause();

    let published = 0;
    while ((await dropped()) === 0) {
      expect(published).toBeLessThan(1_000);
      server.app.bus.publish('event', bigEvent(acme, published));
      published += 1;
      // The publisher never waits for the slow one; the fast one keeps up with every event.
      await fastSub.waitForData(published);
    }
    await waitForActiveSubscriptions(server.app, 1);
    for (let n = published; n < published + 5; n += 1) server.app.bus.publish('event', bigEvent(acme, n));
    await fastSub.waitForData(published + 5);
    expect(fastSub.data.map((data) => data.events.id)).toEqual(Array.from({ length: published + 5 }, (_, n) => `evt_big${n}`));
    expect(fastSub.error).toBeUndefined();

    // Reading again, the slow client gets what was already on its way, then the close.
    tcp.resume();
    expect(await slow.closed).toEqual({ code: 1013, reason: `Too slow: a subscription fell ${BUFFER} events behind` });
    const received = slow.messages.filter((message) => message.type === 'next').map((message) => message.payload.data.events.id);
    expect(received.length).toBeLessThan(published);
    expect(received).toEqual(Array.from({ length: received.length }, (_, n) => `evt_big${n}`));
    await waitFor(async () => (await dropped()) === 1);
  });

  it('counts a dropped connection once in deskforge_subscribers_dropped_total, however many subscriptions it had', async () => {
    const before = await dropped();
    const activeBefore = await activeSubscriptions(server.app);
    const tcp = pausableWebSocket();
    const many = await connectLiveOk(server.wsUrl, acme.apiKey, tcp.impl);
    try {
      const subscriptions = [
        many.subscribe('subscription { events { id payload } }'),
        many.subscribe('subscription { events(types: [PROJECT_UPDATED]) { id payload } }'),
        many.subscribe('subscription { events { id type payload } }'),
      ];
      await waitForActiveSubscriptions(server.app, activeBefore + subscriptions.length);
      tcp.pause();
      let published = 0;
      while ((await activeSubscriptions(server.app)) > activeBefore) {
        expect(published).toBeLessThan(1_000);
        server.app.bus.publish('event', bigEvent(acme, 10_000 + published));
        published += 1;
        // Let the server write what it can: only the paused reader, not a busy loop, backs it up.
        if (published % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      tcp.resume();
      expect(await many.closed).toEqual({ code: 1013, reason: `Too slow: a subscription fell ${BUFFER} events behind` });
      expect(await dropped()).toBe(before + 1);
    } finally {
      await many.close();
    }
  });
});
