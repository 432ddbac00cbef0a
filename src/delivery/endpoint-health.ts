import { Clock } from '../clock';

/**
 * How fast a healthy endpoint answers (API.md §5: "one that answers within a second"). An attempt
 * still in flight after this, or a last attempt that took longer, makes its webhook suspect: its
 * slot may be held until the attempt timeout (`WEBHOOK_TIMEOUT_MS`, 10 s by default).
 */
export const HEALTHY_ANSWER_MS = 1_000;

/** How the slots one webhook holds count against the lanes of `FairSlots`. */
export interface Untrusted {
  /** Slots held while the webhook is suspect. */
  suspect: number;
  /** Slots held as a probe (0 or 1): the first of a webhook not yet seen to answer. */
  probing: number;
}

const TRUSTED: Untrusted = { suspect: 0, probing: 0 };

/**
 * What this worker has seen of each webhook's endpoint, to keep attempts to endpoints that are
 * timing out or failing out of the slots reserved for endpoints that answer (`FairSlots`).
 *
 * A webhook is **suspect** when its last attempt here failed (any outcome but a 2xx) or took longer
 * than `HEALTHY_ANSWER_MS` (until a 2xx within it), and while one of its attempts has been in
 * flight longer than that. A webhook not yet seen to answer here (new, or any after a restart)
 * holds one slot as a **probe**, the rest as suspect: a new healthy webhook's first delivery need
 * not wait for the suspect lane, and a new dead one takes one probe slot, not its
 * `WEBHOOK_ENDPOINT_CONCURRENCY`. In memory only, per process; each worker learns on its own.
 */
export class EndpointHealth {
  /** Webhooks whose last attempt here succeeded within `HEALTHY_ANSWER_MS`. */
  private readonly answering = new Set<string>();
  /** Webhooks whose last attempt here failed or was slow. */
  private readonly failing = new Set<string>();
  /** Start times (ms) of the attempts in flight, per webhook, oldest first. */
  private readonly inFlight = new Map<string, number[]>();

  constructor(private readonly clock: Clock) {}

  /** Notes an attempt to `webhookId` starting now; returns its start, for `ended`. */
  started(webhookId: string): number {
    const at = this.clock.now().getTime();
    const starts = this.inFlight.get(webhookId);
    if (starts) starts.push(at);
    else this.inFlight.set(webhookId, [at]);
    return at;
  }

  /**
   * Notes the end of the attempt that started at `startedAt`: `succeeded` is whether the endpoint
   * answered 2xx, or null when nothing was learnt of it (not sent, cut off at shutdown, an error here).
   */
  ended(webhookId: string, startedAt: number, succeeded: boolean | null): void {
    const starts = this.inFlight.get(webhookId) ?? [];
    const index = starts.indexOf(startedAt);
    if (index >= 0) starts.splice(index, 1);
    if (starts.length === 0) this.inFlight.delete(webhookId);
    if (succeeded === null) return;
    if (succeeded && this.clock.now().getTime() - startedAt <= HEALTHY_ANSWER_MS) {
      this.failing.delete(webhookId);
      this.answering.add(webhookId);
    } else {
      this.answering.delete(webhookId);
      this.failing.add(webhookId);
    }
  }

  /** How the `holding` slots that `webhookId` holds (attempts, or claimed deliveries) count: suspect, probe, or neither. */
  untrusted(webhookId: string, holding: number): Untrusted {
    const oldest = this.inFlight.get(webhookId)?.[0];
    if (this.failing.has(webhookId) || (oldest !== undefined && this.clock.now().getTime() - oldest > HEALTHY_ANSWER_MS))
      return { suspect: holding, probing: 0 };
    if (this.answering.has(webhookId)) return TRUSTED;
    return { suspect: Math.max(0, holding - 1), probing: Math.min(holding, 1) };
  }

  /** Forgets what was seen of a webhook (it changed: its URL may be another endpoint now). */
  forget(webhookId: string): void {
    this.answering.delete(webhookId);
    this.failing.delete(webhookId);
  }
}
