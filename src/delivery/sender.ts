import { isIP, LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { Clock } from '../clock';
import { bareHostname, isPublicAddress, Resolver } from '../webhooks/url-policy';

/** Only this much of a response body is read and stored; the rest is never downloaded. */
export const RESPONSE_BODY_LIMIT = 4096;

export interface SenderOptions {
  /**
   * Per-attempt bound on DNS, connect, TLS and the response headers (`WEBHOOK_TIMEOUT_MS`); what is left of it
   * bounds the body read, which then stops without changing the outcome the status decided.
   */
  timeoutMs: number;
  /** When false, only https to public addresses: checked against the address actually connected to. */
  allowPrivateUrls: boolean;
  resolve: Resolver;
  clock: Clock;
  /**
   * Most connections to one origin (default: no limit): the attempts the caller may have in flight at once. Without a
   * cap, a request sent just as another ends opens a new connection rather than wait for that one.
   */
  connectionsPerOrigin?: number;
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

/** Errors of a kept-alive connection that the other side had closed, before any response. */
const CLOSED_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET']);

/** The first value of header `name` (lower case) in undici's raw [name, value, …] list. */
function header(rawHeaders: Buffer[], name: string): string | null {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i].length === name.length && rawHeaders[i].toString('latin1').toLowerCase() === name)
      return rawHeaders[i + 1].toString('latin1');
  }
  return null;
}

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

/** Where a request goes, taken apart once per URL object. */
interface Target {
  origin: string;
  path: string;
}

/** What is known of the response so far. */
interface Response {
  status: number;
  retryAfter: string | null;
  redirect: string | null;
  chunks: Buffer[];
  size: number;
}

/**
 * Makes single webhook HTTP attempts with undici (a fraction of the CPU of `node:http` per request,
 * which is most of a delivery's cost). Connections are kept alive and reused per origin (one the
 * receiver closes before answering is replaced once, within the same attempt); redirects are not
 * followed; at most 4 KiB of a response is read, within the attempt's timeout (a body that stalls after the
 * headers is cut off and the status still decides). Unless private URLs are allowed, every new
 * connection's resolved address is checked by a custom `lookup` (DNS may have changed since the
 * webhook was saved), and IP-literal hosts, which are connected to without a lookup, are checked
 * before the request.
 */
export class Sender {
  private readonly agent: Agent;
  /** How to cut off each attempt in flight. */
  private readonly inFlight = new Set<() => void>();
  /** Per target URL object (webhooks keep theirs while cached), so URLs are not taken apart per attempt. */
  private readonly targets = new WeakMap<URL, Target>();

  constructor(private readonly options: SenderOptions) {
    this.agent = new Agent({
      connect: { lookup: this.lookup.bind(this) as LookupFunction, timeout: options.timeoutMs },
      connections: options.connectionsPerOrigin ?? null,
      pipelining: 1,
    });
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
      let cancel: ((reason: Error) => void) | undefined;
      // Settle first: cutting a request off makes undici report its error at once.
      const abort = () => {
        finish({ aborted: true, error: 'aborted at shutdown' });
        cancel?.(new Error('aborted at shutdown'));
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
      this.inFlight.add(abort);
      // Set once the headers are in (a retry on a fresh connection happens only before any response).
      let response: Response | undefined;
      const done = () => {
        const { status, chunks, redirect, retryAfter } = response!;
        finish({ status, body: Buffer.concat(chunks).toString('utf8'), error: redirect, retryAfter });
      };
      timer = setTimeout(() => {
        // Past the headers, the status has decided: a body still coming is cut off, not a timeout.
        if (response) {
          done();
          cancel?.(new Error('response body read stopped at the attempt timeout'));
          return;
        }
        const timeout = new AttemptTimeout(`timeout after ${this.options.timeoutMs} ms`);
        finish({ error: timeout.message });
        cancel?.(timeout);
      }, this.options.timeoutMs);

      const { origin, path } = this.targetOf(request.url);
      const issue = (firstTry: boolean) => {
        this.agent.dispatch(
          { origin, path, method: 'POST', headers: request.headers, body: request.body },
          {
            onConnect: (cut: (reason: Error) => void) => {
              cancel = cut;
              if (settled) cut(new Error('attempt already over'));
            },
            onHeaders: (status: number, rawHeaders: Buffer[]) => {
              // Headers arrived in time: the status decides the outcome; the timer now only bounds the body read.
              const location = header(rawHeaders, 'location');
              response = {
                status,
                retryAfter: header(rawHeaders, 'retry-after'),
                redirect: status >= 300 && status < 400 ? `redirect${location ? ` to ${location}` : ''} not followed` : null,
                chunks: [],
                size: 0,
              };
              return true;
            },
            onData: (chunk: Buffer) => {
              const read = response!;
              const room = RESPONSE_BODY_LIMIT - read.size;
              read.chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
              read.size += Math.min(chunk.length, room);
              if (read.size < RESPONSE_BODY_LIMIT) return true;
              done();
              cancel?.(new Error('response body limit reached'));
              return false;
            },
            onComplete: () => done(),
            onError: (error: NodeJS.ErrnoException) => {
              if (settled) return;
              if (response) return done();
              // A kept-alive connection the receiver closed just as it was reused: not the receiver's failure.
              if (firstTry && CLOSED_CONNECTION_CODES.has(error.code ?? '')) return issue(false);
              finish({ error: describeError(error) });
            },
          },
        );
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

  private targetOf(url: URL): Target {
    let target = this.targets.get(url);
    if (!target) {
      target = { origin: url.origin, path: `${url.pathname}${url.search}` };
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
    this.agent.destroy().catch(() => undefined);
  }
}
