import http from 'node:http';
import https from 'node:https';
import { isIP, LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { urlToHttpOptions } from 'node:url';
import { Clock } from '../clock';
import { bareHostname, isPublicAddress, Resolver } from '../webhooks/url-policy';

/** Only this much of a response body is read and stored; the rest is never downloaded. */
export const RESPONSE_BODY_LIMIT = 4096;

export interface SenderOptions {
  /** Per-attempt bound on DNS, connect, TLS and the response headers (`WEBHOOK_TIMEOUT_MS`). */
  timeoutMs: number;
  /** When false, only https to public addresses: checked against the address actually connected to. */
  allowPrivateUrls: boolean;
  resolve: Resolver;
  clock: Clock;
}

export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
}

/** What one attempt produced: a response status, or an error, never both missing. */
export interface AttemptResult {
  startedAt: Date;
  durationMs: number;
  /** The HTTP status, or null when no response arrived. */
  status: number | null;
  /** The first 4 KiB of the response body, as UTF-8. */
  body: string | null;
  /** Why there was no 2xx when it was not a plain status: timeout, connection error, refused address, redirect. */
  error: string | null;
  /** The `Retry-After` response header, if any. */
  retryAfter: string | null;
  /** True when the attempt was cut short by `abortAll()`; such an attempt is not recorded. */
  aborted: boolean;
}

/** The target is, or resolved to, an address webhooks may not reach. */
export class AddressRefused extends Error {
  readonly code = 'EADDRREFUSED';
}

class AttemptTimeout extends Error {}

/** Errors of a reused kept-alive connection that the other side had already closed. */
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);

function describeError(error: unknown): string {
  if (error instanceof AttemptTimeout || error instanceof AddressRefused) return error.message;
  const { code, message } = error as NodeJS.ErrnoException;
  if (code && message && !message.includes(code)) return `${code}: ${message}`;
  return message || code || String(error);
}

function refusal(host: string, address: string): AddressRefused {
  const shown = host === address ? address : `${host} resolves to ${address}, which`;
  return new AddressRefused(`refused: ${shown} is not a public address (loopback, private or reserved)`);
}

/**
 * Makes single webhook HTTP attempts. Connections are kept alive and reused per origin (a reused
 * connection found closed by the receiver is replaced once, within the same attempt); redirects are
 * not followed; at most 4 KiB of a response is read. Unless private URLs are allowed, every new
 * connection's resolved address is checked by a custom `lookup` on the agents (DNS may have changed
 * since the webhook was saved), and IP-literal hosts, which Node connects to without a lookup, are
 * checked before the request.
 */
export class Sender {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  /** How to cut off each attempt in flight. */
  private readonly inFlight = new Set<() => void>();
  /** Request options per target URL object (webhooks keep theirs while cached), so URLs are not taken apart per attempt. */
  private readonly targets = new WeakMap<URL, http.RequestOptions>();

  constructor(private readonly options: SenderOptions) {
    const lookup = this.lookup.bind(this) as LookupFunction;
    this.httpAgent = new http.Agent({ keepAlive: true, lookup });
    this.httpsAgent = new https.Agent({ keepAlive: true, lookup });
  }

  /** The DNS step of every new connection: the injected resolver, then the SSRF check. */
  private lookup(
    hostname: string,
    lookupOptions: { all?: boolean },
    callback: (error: Error | null, address: string | Array<{ address: string; family: number }>, family?: number) => void,
  ): void {
    this.options.resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0) {
          callback(Object.assign(new Error(`ENOTFOUND: ${hostname} has no address`), { code: 'ENOTFOUND' }), '');
          return;
        }
        const refused = this.options.allowPrivateUrls ? undefined : addresses.find(({ address }) => !isPublicAddress(address));
        if (refused) {
          callback(refusal(hostname, refused.address), '');
          return;
        }
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0].address, addresses[0].family);
      },
      (error: Error) => callback(error, ''),
    );
  }

  /** Sends one POST; never throws: every failure is described in the result. */
  send(request: OutgoingRequest): Promise<AttemptResult> {
    const startedAt = this.options.clock.now();
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      let req: http.ClientRequest | undefined;
      const abort = () => {
        req?.destroy();
        finish({ aborted: true, error: 'aborted at shutdown' });
      };
      const finish = (outcome: Partial<AttemptResult>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(abort);
        resolve({
          startedAt,
          durationMs: Math.round(performance.now() - started),
          status: null,
          body: null,
          error: null,
          retryAfter: null,
          aborted: false,
          ...outcome,
        });
      };

      const refused = this.refusedBeforeConnect(request.url);
      if (refused) {
        finish({ error: refused });
        return;
      }

      const secure = request.url.protocol === 'https:';
      this.inFlight.add(abort);
      timer = setTimeout(() => req!.destroy(new AttemptTimeout(`timeout after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);

      const issue = (firstTry: boolean) => {
        const current = (secure ? https : http).request({
          ...this.targetOf(request.url),
          headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        });
        req = current;
        let responseEnded: (() => void) | undefined;
        current.on('error', (error: NodeJS.ErrnoException) => {
          if (responseEnded) return responseEnded();
          // A kept-alive connection the receiver closed just as it was reused: not the receiver's failure.
          if (firstTry && current.reusedSocket && STALE_SOCKET_CODES.has(error.code ?? '')) return issue(false);
          finish({ error: describeError(error) });
        });
        current.on('response', (res) => {
          // Headers arrived in time: the status decides the outcome; the timer now only bounds the body read.
          const status = res.statusCode ?? null;
          const retryAfter = typeof res.headers['retry-after'] === 'string' ? res.headers['retry-after'] : null;
          const redirect =
            status !== null && status >= 300 && status < 400
              ? `redirect${res.headers.location ? ` to ${res.headers.location}` : ''} not followed`
              : null;
          const chunks: Buffer[] = [];
          let size = 0;
          const done = () => finish({ status, body: Buffer.concat(chunks).toString('utf8'), error: redirect, retryAfter });
          responseEnded = done;
          res.on('data', (chunk: Buffer) => {
            const room = RESPONSE_BODY_LIMIT - size;
            chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
            size += Math.min(chunk.length, room);
            if (size >= RESPONSE_BODY_LIMIT) {
              done();
              res.destroy();
            }
          });
          res.on('end', done);
          res.on('close', done);
          res.on('error', done);
        });
        current.end(request.body);
      };
      issue(true);
    });
  }

  /** Checks that need no DNS: the scheme, and IP-literal hosts (Node skips `lookup` for those). */
  private refusedBeforeConnect(url: URL): string | null {
    if (this.options.allowPrivateUrls) return null;
    if (url.protocol !== 'https:') return `refused: ${url.protocol}// targets are not allowed, only https://`;
    const host = bareHostname(url);
    if (isIP(host) && !isPublicAddress(host)) return refusal(host, host).message;
    return null;
  }

  private targetOf(url: URL): http.RequestOptions {
    let target = this.targets.get(url);
    if (!target) {
      const secure = url.protocol === 'https:';
      target = { ...urlToHttpOptions(url), method: 'POST', agent: secure ? this.httpsAgent : this.httpAgent };
      this.targets.set(url, target);
    }
    return target;
  }

  /** Cuts off every attempt in flight (shutdown past its grace period); their results carry `aborted`. */
  abortAll(): void {
    for (const abort of [...this.inFlight]) abort();
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
