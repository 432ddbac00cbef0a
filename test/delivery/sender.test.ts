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

/** A bare HTTP/1.1 server that answers every request with `head` and then never sends another byte. */
async function startStallingReceiver(head: string): Promise<{ server: Server; url: string; requests: () => number }> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.on('data', () => {
      requests += 1;
      socket.write(head);
    });
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('close', () => sockets.forEach((socket) => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/hook`, requests: () => requests };
}

async function closeServer(server: Server): Promise<void> {
  await new Promise((resolve) => server.close(resolve));
}

describe('Sender', () => {
  const TIMEOUT_MS = 300;
  const send = (sender: Sender, url: string) =>
    sender.send({ url: new URL(url), headers: { 'content-type': 'application/json' }, body: '{}' });

  it.each([
    ['a 200 with a declared length', 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\naccepted', 200, null],
    ['a chunked 202', 'HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n8\r\naccepted\r\n', 202, null],
    ['a 503 with Retry-After', 'HTTP/1.1 503 Service Unavailable\r\nRetry-After: 7\r\nContent-Length: 1000\r\n\r\naccepted', 503, '7'],
  ])('lets the status decide once headers are in when the body then stalls (%s)', async (_, head, status, retryAfter) => {
    const receiver = await startStallingReceiver(head);
    const sender = new Sender({ timeoutMs: TIMEOUT_MS, allowPrivateUrls: true, resolve: async () => [], clock: systemClock });
    try {
      const result = await send(sender, receiver.url);
      expect(result).toMatchObject({ status, body: 'accepted', error: null, retryAfter, aborted: false });
      expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
      expect(result.durationMs).toBeLessThan(TIMEOUT_MS + 300);
      expect(receiver.requests()).toBe(1);
    } finally {
      sender.close();
      await closeServer(receiver.server);
    }
  });

  it('still times out an attempt whose headers never arrive', async () => {
    const receiver = await startStallingReceiver('');
    const sender = new Sender({ timeoutMs: TIMEOUT_MS, allowPrivateUrls: true, resolve: async () => [], clock: systemClock });
    try {
      expect(await send(sender, receiver.url)).toMatchObject({ status: null, body: null, error: `timeout after ${TIMEOUT_MS} ms` });
    } finally {
      sender.close();
      await closeServer(receiver.server);
    }
  });

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
