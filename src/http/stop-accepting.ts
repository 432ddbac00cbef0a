import { RequestHandler } from 'express';
import { Server } from 'node:http';
import { LiveServer } from './websocket';

/**
 * Mounted before every route: a request that arrives once the listener is closed (on a connection
 * kept alive from before the shutdown) is answered 503 with `Connection: close`, in the GraphQL
 * error shape, and reaches nothing else. `listening` is the state: it goes false at `stopAccepting`.
 */
export function refuseWhenNotListening(httpServer: Server): RequestHandler {
  return (_req, res, next) => {
    if (httpServer.listening) return next();
    res
      .status(503)
      .set('Connection', 'close')
      .json({ errors: [{ message: 'The server is shutting down; retry later', extensions: { code: 'SERVICE_UNAVAILABLE' } }] });
  };
}

/**
 * The first step of a shutdown (API.md §1: stop accepting first). At once: the listener closes
 * (new connections are refused, idle kept-alive ones closed), every later request on a remaining
 * connection is answered 503 (`refuseWhenNotListening`), WebSocket upgrades are no longer handled and
 * live clients are sent 1001 and take no new operation. Requests already running carry on.
 * Resolves once the live clients have closed (or were cut after the live server's grace period);
 * a process without the `api` role has none.
 */
export function stopAccepting(httpServer: Server, live: LiveServer | undefined): Promise<void> {
  httpServer.close();
  return live ? live.close() : Promise.resolve();
}
