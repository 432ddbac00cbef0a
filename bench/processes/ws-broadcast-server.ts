import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { pace } from '../lib/pacer';
import { benchId } from '../lib/webhook-wire';
import { serveParent } from '../lib/worker';

/**
 * The fan-out baseline: a bare `ws` server that broadcasts, at a fixed rate, the bytes a graphql-ws
 * subscriber receives for one event (a `next` message captured from the service), with a fresh
 * event id and `createdAt` each time. No GraphQL, no pub/sub, no database.
 */
export interface BroadcastRun {
  /** A graphql-ws `next` message: `{"id":…,"type":"next","payload":{"data":{"events":{…}}}}`. */
  template: string;
  eventsPerSecond: number;
  durationMs: number;
}

interface NextMessage {
  payload: { data: { events: { id: string; createdAt: string } } };
}

const httpServer = createServer((_req, res) => res.writeHead(426).end());
const wss = new WebSocketServer({ server: httpServer, path: '/graphql' });

function broadcastOnce(template: NextMessage): void {
  template.payload.data.events.id = benchId('evt');
  template.payload.data.events.createdAt = new Date().toISOString();
  const bytes = Buffer.from(JSON.stringify(template));
  for (const client of wss.clients) if (client.readyState === WebSocket.OPEN) client.send(bytes, { binary: false });
}

serveParent({
  async listen(): Promise<{ port: number }> {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    return { port: (httpServer.address() as AddressInfo).port };
  },
  /** One message to every client (the warm-up); returns how many clients it reached. */
  once(args: { template: string }): number {
    broadcastOnce(JSON.parse(args.template) as NextMessage);
    return wss.clients.size;
  },
  async broadcast(run: BroadcastRun): Promise<{ events: number }> {
    const template = JSON.parse(run.template) as NextMessage;
    const events = await pace(run.eventsPerSecond, run.durationMs, () => broadcastOnce(template));
    return { events };
  },
});
