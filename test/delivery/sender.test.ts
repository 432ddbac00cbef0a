import { createServer, Server, Socket } from 'node:net';
import { systemClock } from '../../src/clock';
import { Sender } from '../../src/delivery/sender';

/**
 * A bare HTTP/1.1 server that answers the first request of every connection with a kept-alive 200
 * and resets the connection when a second request arrives on it: the race of a receiver closing an
 * idle connection just as it is reused.
 */
async function startStaleReceiver(): Promise<{ server: Server; url: string; connections: () => number; requests: () => number }> {
  let connections = 0;
  let requests = 0;
  const server = createServer((socket: Socket) => {
    connections += 1;
    let served = false;
    socket.on('data', () => {
      requests += 1;
      if (served) {
        socket.resetAndDestroy();
        return;
      }
      served = true;
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\nok');
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/hook`, connections: () => connections, requests: () => requests };
}

describe('Sender', () => {
  it('replaces a reused connection the receiver had closed, within the same attempt', async () => {
    const receiver = await startStaleReceiver();
    const sender = new Sender({ timeoutMs: 2000, allowPrivateUrls: true, resolve: async () => [], clock: systemClock });
    try {
      const send = () => sender.send({ url: new URL(receiver.url), headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(await send()).toMatchObject({ status: 200, body: 'ok', error: null });
      // Let the client put the connection back in its pool before reusing it.
      await new Promise((resolve) => setImmediate(resolve));
      const second = await send();
      expect(second).toMatchObject({ status: 200, body: 'ok', error: null });
      expect(receiver.connections()).toBe(2);
      expect(receiver.requests()).toBe(3);
    } finally {
      sender.close();
      await new Promise((resolve) => receiver.server.close(resolve));
    }
  });
});
