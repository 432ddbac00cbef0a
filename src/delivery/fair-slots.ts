import { DueWebhook } from './delivery.queries';
import { Untrusted } from './endpoint-health';

export interface SlotLimits {
  /** Attempts in flight in this process, all webhooks together (`WEBHOOK_CONCURRENCY`). */
  concurrency: number;
  /** Attempts in flight to one webhook (`WEBHOOK_ENDPOINT_CONCURRENCY`). */
  perWebhook: number;
  /** Slots that suspect webhooks (`EndpointHealth`) leave to the others, half of them also to probes: see `healthyReserve`. */
  reserve: number;
}

/**
 * The most one account holds: `concurrency − perWebhook`, so another account's delivery always
 * finds a free slot (when the two are equal, one account may take them all: there is nothing to share).
 */
export function perAccountCap(limits: SlotLimits): number {
  return limits.concurrency > limits.perWebhook ? limits.concurrency - limits.perWebhook : limits.concurrency;
}

/**
 * The slots kept from attempts to endpoints that are timing out or failing: a fifth (10 of 50 at
 * the defaults), at least one, and never all of them (with one slot there is nothing to share).
 * Probes of webhooks not yet seen to answer may take half of it; the other half (5 at the
 * defaults, one webhook's `WEBHOOK_ENDPOINT_CONCURRENCY`) is only for webhooks seen to answer. A
 * healthy endpoint answers within a second, so even when the others hold the rest for whole
 * timeouts, those slots turn over at least every second; the suspect ones keep four fifths (40),
 * enough for their retries, and their recovery, to go on.
 */
export function healthyReserve(concurrency: number): number {
  return Math.min(concurrency - 1, Math.ceil(concurrency / 5));
}

/** How the `holding` slots that a webhook holds count against the lanes (`EndpointHealth.untrusted`). */
export type UntrustedSlots = (webhookId: string, holding: number) => Untrusted;

/**
 * Attempt slots (or, scaled up, a window of claimed deliveries) shared in lanes: slots held by
 * webhooks that are timing out or failing (`EndpointHealth`) together are at most
 * `concurrency − reserve`, and with the probes of webhooks not yet seen to answer at most
 * `concurrency − reserve / 2`; webhooks seen to answer may take any free slot. Within that, slots are dealt
 * between accounts first, then between an account's webhooks: `allocate` deals free slots one at a
 * time, round robin over the accounts with due work, each account's turn going to its next webhook
 * below its caps; the starting account and webhook rotate from call to call. So accounts with
 * forty dead endpoints each hold only the suspect lane between them, an account holds at most its
 * cap, and a delivery to an endpoint that answers always finds a slot.
 *
 * A webhook's lane is read when slots are dealt, not when taken: one that turns suspect counts in
 * the suspect lane with the slots it already holds (they are not taken back; it gets no more).
 */
export class FairSlots {
  private readonly byWebhook = new Map<string, number>();
  private readonly byAccount = new Map<string, number>();
  private readonly accountOfWebhook = new Map<string, string>();
  private total = 0;
  private turn = 0;
  readonly accountCap: number;
  /** The most that suspect webhooks hold together. */
  readonly suspectCap: number;
  /** The most that suspect webhooks and probes hold together. */
  readonly untrustedCap: number;

  constructor(
    private readonly limits: SlotLimits,
    private readonly untrusted: UntrustedSlots,
  ) {
    this.accountCap = perAccountCap(limits);
    this.suspectCap = limits.concurrency - limits.reserve;
    this.untrustedCap = limits.concurrency - Math.ceil(limits.reserve / 2);
  }

  get free(): number {
    return this.limits.concurrency - this.total;
  }

  /** Webhooks holding slots that may get no more now (at their cap, their account's, or their lane's): claiming for them would be wasted. */
  saturated(): string[] {
    const lanes = this.lanes();
    return [...this.byWebhook]
      .filter(
        ([webhookId, count]) =>
          count >= this.limits.perWebhook ||
          countOf(this.byAccount, this.accountOfWebhook.get(webhookId)!) >= this.accountCap ||
          !lanes.fits(webhookId, count),
      )
      .map(([webhookId]) => webhookId);
  }

  /**
   * Grants slots one at a time, to be taken later: a commit's hand-off grants leases inside its
   * transaction and hands the deliveries over after it. Each call says whether one more slot may go
   * to `webhookId` of `accountId`, counting the ones granted before.
   */
  promises(): (webhookId: string, accountId: string) => boolean {
    const dealing = this.dealing();
    return (webhookId, accountId) => dealing.grant(webhookId, accountId);
  }

  /** How many slots each of `due` may take now. */
  allocate(due: DueWebhook[]): Map<string, number> {
    const accounts = new Map<string, string[]>();
    for (const { webhookId, accountId } of due) {
      const list = accounts.get(accountId);
      if (list) list.push(webhookId);
      else accounts.set(accountId, [webhookId]);
    }
    const order = rotate([...accounts.keys()], this.turn);
    const cursor = new Map(order.map((accountId) => [accountId, this.turn]));
    this.turn += 1;
    const dealing = this.dealing();
    let progress = true;
    while (progress) {
      progress = false;
      for (const accountId of order) {
        if (dealing.accountFull(accountId)) continue;
        const webhooks = accounts.get(accountId)!;
        for (let tried = 0; tried < webhooks.length; tried += 1) {
          const index = cursor.get(accountId)!;
          cursor.set(accountId, index + 1);
          if (dealing.grant(webhooks[index % webhooks.length], accountId)) {
            progress = true;
            break;
          }
        }
      }
    }
    return dealing.grants;
  }

  take(webhookId: string, accountId: string): void {
    this.byWebhook.set(webhookId, countOf(this.byWebhook, webhookId) + 1);
    this.byAccount.set(accountId, countOf(this.byAccount, accountId) + 1);
    this.accountOfWebhook.set(webhookId, accountId);
    this.total += 1;
  }

  release(webhookId: string, accountId: string): void {
    if (decrement(this.byWebhook, webhookId)) this.accountOfWebhook.delete(webhookId);
    decrement(this.byAccount, accountId);
    this.total -= 1;
  }

  /** The room left in the lanes: whether a webhook holding `holding` slots fits one more, and taking it. */
  private lanes() {
    let suspectRoom = this.suspectCap;
    let untrustedRoom = this.untrustedCap;
    for (const [webhookId, count] of this.byWebhook) {
      const { suspect, probing } = this.untrusted(webhookId, count);
      suspectRoom -= suspect;
      untrustedRoom -= suspect + probing;
    }
    const added = (webhookId: string, holding: number) => {
      const before = this.untrusted(webhookId, holding);
      const after = this.untrusted(webhookId, holding + 1);
      return { suspect: after.suspect - before.suspect, untrusted: after.suspect + after.probing - before.suspect - before.probing };
    };
    return {
      // A lane may be over its cap (webhooks turned suspect holding slots): that stops only what would add to it.
      fits: (webhookId: string, holding: number): boolean => {
        const { suspect, untrusted } = added(webhookId, holding);
        return (suspect === 0 || suspect <= suspectRoom) && (untrusted === 0 || untrusted <= untrustedRoom);
      },
      take: (webhookId: string, holding: number): void => {
        const { suspect, untrusted } = added(webhookId, holding);
        suspectRoom -= suspect;
        untrustedRoom -= untrusted;
      },
    };
  }

  /** Slots granted one at a time on top of those taken, within every cap (`grants`: per webhook). */
  private dealing() {
    const grants = new Map<string, number>();
    const accountGrants = new Map<string, number>();
    let free = this.free;
    const lanes = this.lanes();
    const accountFull = (accountId: string) => countOf(this.byAccount, accountId) + countOf(accountGrants, accountId) >= this.accountCap;
    return {
      grants,
      accountFull,
      grant: (webhookId: string, accountId: string): boolean => {
        const holding = countOf(this.byWebhook, webhookId) + countOf(grants, webhookId);
        if (free <= 0 || accountFull(accountId) || holding >= this.limits.perWebhook || !lanes.fits(webhookId, holding)) return false;
        lanes.take(webhookId, holding);
        grants.set(webhookId, countOf(grants, webhookId) + 1);
        accountGrants.set(accountId, countOf(accountGrants, accountId) + 1);
        free -= 1;
        return true;
      },
    };
  }
}

function countOf(map: Map<string, number>, key: string): number {
  return map.get(key) ?? 0;
}

/** Counts one down; true when it reached zero (and the key is gone). */
function decrement(map: Map<string, number>, key: string): boolean {
  const next = (map.get(key) ?? 0) - 1;
  if (next > 0) {
    map.set(key, next);
    return false;
  }
  map.delete(key);
  return true;
}

function rotate<T>(items: T[], by: number): T[] {
  if (items.length === 0) return items;
  const start = by % items.length;
  return [...items.slice(start), ...items.slice(0, start)];
}
