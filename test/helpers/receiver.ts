import crypto from 'node:crypto';
import { createServer, IncomingHttpHeaders, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import express from 'express';
import { Webhook as StandardWebhook } from 'standardwebhooks';

/**
 * The verification snippet of the DeskForge webhooks page, exactly as written there: it signs
 * `JSON.stringify(payload)` of the parsed body, so it only works if the body is compact JSON.
 */
function verifyWebhook(payload: unknown, signature: string, secret: string): boolean {
  const hmac = crypto.createHmac('sha256', secret);
  const digest = hmac.update(JSON.stringify(payload)).digest('hex');
  return crypto.timingSafeEqual(Buffer.from(signature), Buffer.from(digest));
}

/** The page's snippet, with its throw on a length mismatch read as "invalid". */
export function deskforgeSignatureValid(payload: unknown, signature: string | undefined, secret: string): boolean {
  try {
    return verifyWebhook(payload, signature ?? '', secret);
  } catch {
    return false;
  }
}

/** The `standardwebhooks` library as a receiver would use it: `whsec_` secrets as given, others as raw UTF-8 bytes. */
export function standardVerifier(secret: string): StandardWebhook {
  return secret.startsWith('whsec_') ? new StandardWebhook(secret) : new StandardWebhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
}

/** True when `standardwebhooks` accepts the raw body and headers (now, or at `at` for replay checks). */
export function standardSignatureValid(raw: Buffer, headers: IncomingHttpHeaders, secret: string): boolean {
  try {
    standardVerifier(secret).verify(raw.toString('utf8'), headers as Record<string, string>);
    return true;
  } catch {
    return false;
  }
}

export interface ReceivedRequest {
  /** 1-based arrival order. */
  index: number;
  receivedAt: number;
  path: string;
  headers: IncomingHttpHeaders;
  /** The bytes as they arrived. */
  raw: Buffer;
  /** `req.body` after `express.json()`. */
  body: any;
  /** The DeskForge page's `verifyWebhook(req.body, …)` against the receiver's secret at arrival. */
  deskforgeValid: boolean;
  /** `standardwebhooks` on the raw body against the receiver's secret at arrival. */
  standardValid: boolean;
}

/** How the receiver answers one request. */
export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this long. */
  delayMs?: number;
  /** Never answer (the sender's timeout must end it). */
  hang?: boolean;
  /** Answer only once this settles (a gate the test opens). */
  until?: Promise<unknown>;
  /** Send the status, the headers and this start of the body at once, then never end the body. */
  stallBody?: string;
}

export interface Receiver {
  /** `http://127.0.0.1:<port>/hook` */
  url: string;
  port: number;
  /** The secret requests are verified against; set it when the webhook's secret is generated. */
  secret: string;
  requests: ReceivedRequest[];
  /** TCP connections accepted, including ones that never became a request. */
  connections: number;
  /** Replaces the answer policy; the default answers 200 "ok" at once. */
  reply(policy: (request: ReceivedRequest) => Reply): void;
  /** Requests of one delivery (by `X-DeskForge-Delivery`). */
  forDelivery(deliveryId: string): ReceivedRequest[];
  close(): Promise<void>;
}

/**
 * A real webhook receiver on 127.0.0.1: Express with `express.json()`, as a DeskForge user would
 * write it, recording every request and both verifications. On a free port unless `port` is given
 * (to bring a receiver back where one was).
 */
export async function startReceiver(secret = '', port = 0): Promise<Receiver> {
  let policy: (request: ReceivedRequest) => Reply = () => ({});
  const requests: ReceivedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const app = express();
  app.post(
    '/*splat',
    express.json({
      verify: (req, _res, buf) => {
        (req as unknown as { rawBody: Buffer }).rawBody = Buffer.from(buf);
      },
    }),
    (req, res) => {
      const raw = (req as unknown as { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
      const request: ReceivedRequest = {
        index: requests.length + 1,
        receivedAt: Date.now(),
        path: req.path,
        headers: req.headers,
        raw,
        body: req.body,
        deskforgeValid: deskforgeSignatureValid(req.body, req.headers['x-deskforge-signature'] as string | undefined, receiver.secret),
        standardValid: standardSignatureValid(raw, req.headers, receiver.secret),
      };
      requests.push(request);
      const answer = policy(request);
      if (answer.hang) return;
      if (answer.stallBody !== undefined) {
        res.status(answer.status ?? 200);
        for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
        res.flushHeaders();
        if (answer.stallBody) res.write(answer.stallBody);
        return;
      }
      const send = () => {
        res.status(answer.status ?? 200);
        for (const [name, value] of Object.entries(answer.headers ?? {})) res.setHeader(name, value);
        res.send(answer.body ?? 'ok');
      };
      if (answer.until) {
        void answer.until.then(send, send);
        return;
      }
      if (!answer.delayMs) return send();
      const timer = setTimeout(() => {
        timers.delete(timer);
        send();
      }, answer.delayMs);
      timers.add(timer);
    },
  );
  const server: Server = createServer(app);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${bound}/hook`,
    port: bound,
    secret,
    requests,
    get connections() {
      return connections;
    },
    reply(next) {
      policy = next;
    },
    forDelivery(deliveryId) {
      return requests.filter((request) => request.headers['x-deskforge-delivery'] === deliveryId);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
