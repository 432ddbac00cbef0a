import { Socket } from 'node:net';
import { createAccount } from '../helpers/graphql';
import { activeSubscriptions, connectLive, connectLiveOk, openRawSocket, waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';

describe('live shutdown', () => {
  it('closes clients that answer at once, without waiting for the grace period', async () => {
    const server = await startTestServer({ shutdownGraceMs: 5_000 });
    try {
      const acme = await createAccount(server.app, 'Acme');
      const live = await connectLiveOk(server.wsUrl, acme.apiKey);
      const sub = live.subscribe('subscription { events { id } }');
      await waitForActiveSubscriptions(server.app, 1);
      const started = Date.now();
      await server.app.stop();
      expect(Date.now() - started).toBeLessThan(2_500);
      expect(await live.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      expect(sub.error).toMatchObject({ code: 1001 });
    } finally {
      await server.stop();
    }
  });

  it('closes every client with 1001 and stops within the grace period, even with a stuck reader', async () => {
    const server = await startTestServer({ shutdownGraceMs: 1_000 });
    try {
      const acme = await createAccount(server.app, 'Acme');
      const clients = await Promise.all([1, 2, 3].map(() => connectLiveOk(server.wsUrl, acme.apiKey)));
      const subs = clients.map((live) => live.subscribe('subscription { events { id } }'));
      // One more that never reads again, so it cannot answer the closing handshake.
      const stuck = await openRawSocket(server.wsUrl);
      stuck.send({ type: 'connection_init', payload: { authorization: `Bearer ${acme.apiKey}` } });
      await waitFor(() => stuck.messages.some((message) => message.type === 'connection_ack'));
      stuck.send({ type: 'subscribe', id: '1', payload: { query: 'subscription { events { id } }' } });
      await waitForActiveSubscriptions(server.app, 4);
      const tcp = (stuck.socket as unknown as { _socket: Socket })._socket;
      tcp.pause();

      const started = Date.now();
      await server.app.stop();
      const took = Date.now() - started;

      for (const live of clients) expect(await live.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      for (const sub of subs) expect(sub.error).toMatchObject({ code: 1001 });
      // The stuck one was cut after the grace period; reading again, it finds the 1001 and the end.
      tcp.resume();
      expect(await stuck.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      // ws alone would wait 30 s for the stuck one's closing handshake.
      expect(took).toBeLessThan(5_000);
      expect(await activeSubscriptions(server.app)).toBe(0);
      // Nothing listens any more.
      expect(await connectLive(server.wsUrl, acme.apiKey).closed).toMatchObject({ code: 1006 });
    } finally {
      await server.stop();
    }
  });
});
