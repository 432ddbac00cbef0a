import { Clock } from '../clock';
import { deliveryHeaders } from '../delivery/attempt-plan';
import { OutgoingRequest, Sender } from '../delivery/sender';
import { EventType } from '../events/event-type';
import { newId } from '../ids';
import { systemResolver } from '../webhooks/url-policy';

/** An event as `listen` receives it from the `events` subscription. */
export interface ListenedEvent {
  id: string;
  type: EventType;
  /**
   * The webhook body. The subscription's `payload` is the stored body parsed, and the stored body is
   * `JSON.stringify` output, so `JSON.stringify(payload)` gives back its exact bytes (API.md §4).
   */
  body: string;
}

/**
 * The webhook request of one forward, as the worker builds a delivery's (`deliveryHeaders`): the
 * body byte for byte and the same headers, with a fresh `dlv_` id, since each forward is a delivery
 * of its own. No previous secret: `listen`'s secret lives for one run and is never rotated.
 */
export function forwardRequest(url: URL, event: ListenedEvent, secret: string, now: Date, deliveryId = newId('dlv')): OutgoingRequest {
  return {
    url,
    body: event.body,
    headers: deliveryHeaders({ deliveryId, eventId: event.id, type: event.type, payload: event.body, secret, previousSecret: null, now }),
  };
}

/** What one forward produced, for the output line. */
export interface ForwardResult {
  event: ListenedEvent;
  startedAt: Date;
  durationMs: number;
  /** The local endpoint's HTTP status; null when no answer came (refused, timed out, …). */
  status: number | null;
  /** Why no plain status: the connection error, the timeout, a redirect not followed. */
  error: string | null;
}

export interface ForwarderOptions {
  url: URL;
  secret: string;
  /** Bound on each forward, connect to response headers (a delivery's default `WEBHOOK_TIMEOUT_MS`). */
  timeoutMs: number;
  clock: Clock;
}

/**
 * POSTs events to the developer's endpoint through the worker's `Sender` (same HTTP client, same
 * timeout rule, redirects not followed), with private and loopback targets allowed: `listen` runs on
 * the developer's own machine and the target is theirs. Never throws: a failure is a result.
 */
export class Forwarder {
  private readonly sender: Sender;

  constructor(private readonly options: ForwarderOptions) {
    this.sender = new Sender({ timeoutMs: options.timeoutMs, allowPrivateUrls: true, resolve: systemResolver, clock: options.clock });
  }

  async forward(event: ListenedEvent): Promise<ForwardResult> {
    const { url, secret, clock } = this.options;
    const result = await this.sender.send(forwardRequest(url, event, secret, clock.now()));
    return { event, startedAt: result.startedAt, durationMs: result.durationMs, status: result.status, error: result.error };
  }

  close(): void {
    this.sender.close();
  }
}
