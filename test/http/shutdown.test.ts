import { mkdtempSync, rmSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { databaseLocation } from '../../src/config';
import { openDatabase } from '../../src/db/database';
import { appDatabaseSchema } from '../../src/db/entities';
import { CommittedEvent, DeliveryUpdate } from '../../src/event-bus';
import { ensureBuilt } from '../helpers/build';
import { createAccountWithCli, spawnServer } from '../helpers/child-server';
import { startDeliveryServer } from '../helpers/deliveries';
import { CREATE_PROJECT, createProject, createWebhook } from '../helpers/fixtures';
import { createAccount, TestAccount } from '../helpers/graphql';
import { openRawSocket } from '../helpers/live-client';
import { Receiver, startReceiver } from '../helpers/receiver';
import { startTestServer, TestServer } from '../helpers/server';
import { waitFor } from '../helpers/wait-for';
import { sql } from '../helpers/test-database';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

/** A promise and the function that settles it: what a test holds a receiver or a write with. */
function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A createProject over a fresh connection: its HTTP status, or `refused` when the connection was. */
async function createProjectStatus(server: { url: string }, key: string, name: string): Promise<number | 'refused'> {
  try {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, connection: 'close' },
      body: JSON.stringify({ query: CREATE_PROJECT, variables: { input: { name } } }),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'refused';
  }
}

/** One HTTP/1.1 request as bytes, kept alive. */
function rawRequest(server: TestServer, key: string, body: string): string {
  return [
    `POST /graphql HTTP/1.1`,
    `Host: 127.0.0.1:${server.app.port}`,
    'Content-Type: application/json',
    `Authorization: Bearer ${key}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** Status lines of the responses read so far on a raw socket. */
function statusLines(received: string): string[] {
  return received.match(/^HTTP\/1\.1 \d{3}[^\r]*/gm) ?? [];
}

describe('shutdown: stop accepting first, then drain', () => {
  let account: TestAccount;
  let receiver: Receiver;

  beforeEach(async () => {
    receiver = await startReceiver();
  });
  afterEach(() => receiver.close());

  it('refuses new requests and upgrades at once, while an in-flight webhook attempt finishes', async () => {
    const server = await startDeliveryServer({ shutdownGraceMs: 10_000 });
    try {
      account = await createAccount(server.app);
      const held = gate();
      receiver.reply(() => ({ until: held.opened }));
      await createWebhook(server.url, account.apiKey, { url: receiver.url, events: ['PROJECT_CREATED'] });
      await createProject(server.url, account.apiKey, 'Before shutdown');
      await waitFor(() => receiver.requests.length === 1, { what: 'the attempt to reach the receiver' });
      const outcomes: DeliveryUpdate[] = [];
      const committed: CommittedEvent[] = [];
      server.app.bus.subscribe('delivery', (update) => outcomes.push(update));
      server.app.bus.subscribe('event', (event) => committed.push(event));

      let stopped = false;
      const stopping = server.app.stop().then(() => (stopped = true));

      expect(['refused', 503]).toContain(await createProjectStatus(server, account.apiKey, 'During shutdown'));
      await expect(openRawSocket(server.wsUrl)).rejects.toThrow();
      expect(stopped).toBe(false);
      expect(await sql(server.app.db.reader, 'SELECT count(*) AS n FROM projects WHERE name = ?', ['During shutdown'])).toEqual([{ n: 0 }]);

      held.open();
      await stopping;
      expect(outcomes.map((update) => update.status)).toEqual(['succeeded']);
      expect(committed).toEqual([]);
      expect(receiver.requests).toHaveLength(1);
    } finally {
      await server.stop();
    }
  });

  it('answers 503 with Connection: close to a request on a connection accepted before, which commits nothing', async () => {
    const server = await startTestServer();
    const socket: Socket = connect(server.app.port, '127.0.0.1');
    const connected = new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    try {
      account = await createAccount(server.app);
      await connected;
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));

      // The first request is in flight (its write held) when the shutdown starts; the second comes after it on the same connection.
      const writes = gate();
      const held = server.app.db.writes.write(() => writes.opened);
      socket.write(
        rawRequest(server, account.apiKey, JSON.stringify({ query: CREATE_PROJECT, variables: { input: { name: 'Accepted before' } } })),
      );
      await waitFor(() => server.app.db.writes.waiting === 1, { what: 'the first request to wait for its write' });
      const stopping = server.app.stop();
      socket.write(
        rawRequest(server, account.apiKey, JSON.stringify({ query: CREATE_PROJECT, variables: { input: { name: 'Sent after' } } })),
      );
      writes.open();
      await held;
      await ended;
      await stopping;

      expect(statusLines(received)).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 503 Service Unavailable']);
      const second = received.slice(received.indexOf('HTTP/1.1 503'));
      expect(second).toMatch(/^connection: close$/im);
      expect(JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4))).toEqual({
        errors: [{ message: 'The server is shutting down; retry later', extensions: { code: 'SERVICE_UNAVAILABLE' } }],
      });
      // What was committed is read from the tables once the server has stopped (its feed may have stopped before publishing it).
      const db = await openDatabase(databaseLocation(server.config), appDatabaseSchema);
      try {
        const events = await sql(db.reader, 'SELECT type, payload FROM events ORDER BY position');
        expect(events.map((event) => [event.type, JSON.parse(String(event.payload)).data.project.name])).toEqual([
          ['project.created', 'Accepted before'],
        ]);
        expect(await sql(db.reader, 'SELECT name FROM projects')).toEqual([{ name: 'Accepted before' }]);
      } finally {
        await db.close();
      }
    } finally {
      socket.destroy();
      await server.stop();
    }
  });

  it('runs no operation a live client sends once the shutdown has started', async () => {
    const server = await startTestServer({ shutdownGraceMs: 5_000 });
    try {
      account = await createAccount(server.app);
      const live = await openRawSocket(server.wsUrl);
      live.send({ type: 'connection_init', payload: { authorization: `Bearer ${account.apiKey}` } });
      await waitFor(() => live.messages.some((message) => message.type === 'connection_ack'));
      const committed: string[] = [];
      server.app.bus.subscribe('event', (event) => committed.push(event.id));

      const stopping = server.app.stop();
      live.send({ type: 'subscribe', id: 'late', payload: { query: CREATE_PROJECT, variables: { input: { name: 'Over the socket' } } } });
      expect(await live.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
      await stopping;

      expect(live.messages.filter((message) => message.id === 'late')).toEqual([]);
      expect(committed).toEqual([]);
    } finally {
      await server.stop();
    }
  });
});

describe('SIGTERM to the compiled server', () => {
  let dir: string;
  let receiver: Receiver;

  beforeAll(() => ensureBuilt(), 120_000);
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'deskforge-shutdown-'));
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a createProject sent during the shutdown, lets the held attempt finish, and exits 0', async () => {
    const databasePath = freshDatabase(dir, 'shutdown');
    const { apiKey } = createAccountWithCli(databasePath);
    const held = gate();
    receiver.reply(() => ({ until: held.opened }));
    const child = await spawnServer({ ...databaseEnv(databasePath), WEBHOOK_ALLOW_PRIVATE_URLS: 'true', SHUTDOWN_GRACE_MS: '10000' });
    try {
      await createWebhook(child.url, apiKey, { url: receiver.url, events: ['PROJECT_CREATED'] });
      await createProject(child.url, apiKey, 'Before shutdown');
      await waitFor(() => receiver.requests.length === 1, { what: 'the attempt to reach the receiver' });

      child.process.kill('SIGTERM');
      await waitFor(() => child.logs.some((entry) => entry.msg === 'shutting down'), { what: 'the shutdown to start' });
      expect(['refused', 503]).toContain(await createProjectStatus(child, apiKey, 'During shutdown'));
      expect(child.process.exitCode).toBeNull();

      held.open();
      expect(await child.exited).toEqual({ code: 0, signal: null });
    } finally {
      held.open();
      if (child.process.exitCode === null) child.process.kill('SIGKILL');
      await child.exited;
    }
    const db = await openDatabase(databasePath, appDatabaseSchema);
    try {
      expect(await sql(db.reader, 'SELECT name FROM projects')).toEqual([{ name: 'Before shutdown' }]);
      expect(await sql(db.reader, 'SELECT status, "attemptCount" FROM deliveries')).toEqual([{ status: 'succeeded', attemptCount: 1 }]);
    } finally {
      await db.close();
    }
    expect(receiver.requests).toHaveLength(1);
  });
});
