import { DueWebhook } from './delivery.queries';

export interface SlotLimits {
  /** Attempts in flight in this process, all webhooks together (`WEBHOOK_CONCURRENCY`). */
  concurrency: number;
  /** Attempts in flight to one webhook (`WEBHOOK_ENDPOINT_CONCURRENCY`). */
  perWebhook: number;
}

/**
 * The most one account holds: `concurrency − perWebhook`, so another account's delivery always
 * finds a free slot (when the two are equal, one account may take them all: there is nothing to share).
 */
export function perAccountCap(limits: SlotLimits): number {
  return limits.concurrency > limits.perWebhook ? limits.concurrency - limits.perWebhook : limits.concurrency;
}

/**
 * The attempt slots of one worker, shared between accounts first, then between an account's
 * webhooks: `allocate` deals free slots one at a time, round robin over the accounts with due work,
 * each account's turn going to its next webhook below its cap; the starting account and webhook
 * rotate from call to call. So an account with forty dead endpoints holds at most its cap, and a
 * slot that frees up goes to the other accounts first.
 */
export class FairSlots {
  private readonly byWebhook = new Map<string, number>();
  private readonly byAccount = new Map<string, number>();
  private readonly accountOfWebhook = new Map<string, string>();
  private total = 0;
  private turn = 0;
  readonly accountCap: number;

  constructor(private readonly limits: SlotLimits) {
    this.accountCap = perAccountCap(limits);
  }

  /** Slots taken. */
  get taken(): number {
    return this.total;
  }

  get free(): number {
    return this.limits.concurrency - this.total;
  }

  /** Webhooks holding slots that are at their cap, or whose account is: claiming for them now would be wasted. */
  saturated(): string[] {
    return [...this.byWebhook]
      .filter(([webhookId, count]) => count >= this.limits.perWebhook || (this.byAccount.get(this.accountOfWebhook.get(webhookId)!) ?? 0) >= this.accountCap)
      .map(([webhookId]) => webhookId);
  }

  /**
   * Whether one more slot may go to `webhookId` of `accountId` now, `promised` being slots granted
   * but not taken yet (for that webhook, that account, in all).
   */
  canTake(webhookId: string, accountId: string, promised = { webhook: 0, account: 0, total: 0 }): boolean {
    return (
      this.free - promised.total > 0 &&
      (this.byWebhook.get(webhookId) ?? 0) + promised.webhook < this.limits.perWebhook &&
      (this.byAccount.get(accountId) ?? 0) + promised.account < this.accountCap
    );
  }

  /** How many slots each of `due` may claim now. */
  allocate(due: DueWebhook[]): Map<string, number> {
    const grants = new Map<string, number>();
    const accounts = new Map<string, string[]>();
    for (const { webhookId, accountId } of due) {
      const list = accounts.get(accountId);
      if (list) list.push(webhookId);
      else accounts.set(accountId, [webhookId]);
    }
    const order = rotate([...accounts.keys()], this.turn);
    const cursor = new Map(order.map((accountId) => [accountId, this.turn]));
    this.turn += 1;
    let free = this.free;
    const granted = (map: Map<string, number>, key: string) => map.get(key) ?? 0;
    const accountGrants = new Map<string, number>();
    let progress = true;
    while (free > 0 && progress) {
      progress = false;
      for (const accountId of order) {
        if (free === 0) break;
        if (granted(this.byAccount, accountId) + granted(accountGrants, accountId) >= this.accountCap) continue;
        const webhooks = accounts.get(accountId)!;
        for (let tried = 0; tried < webhooks.length; tried += 1) {
          const index = cursor.get(accountId)!;
          cursor.set(accountId, index + 1);
          const webhookId = webhooks[index % webhooks.length];
          if (granted(this.byWebhook, webhookId) + granted(grants, webhookId) >= this.limits.perWebhook) continue;
          grants.set(webhookId, granted(grants, webhookId) + 1);
          accountGrants.set(accountId, granted(accountGrants, accountId) + 1);
          free -= 1;
          progress = true;
          break;
        }
      }
    }
    return grants;
  }

  take(webhookId: string, accountId: string): void {
    this.accountOfWebhook.set(webhookId, accountId);
    this.byWebhook.set(webhookId, (this.byWebhook.get(webhookId) ?? 0) + 1);
    this.byAccount.set(accountId, (this.byAccount.get(accountId) ?? 0) + 1);
    this.total += 1;
  }

  release(webhookId: string, accountId: string): void {
    if (decrement(this.byWebhook, webhookId)) this.accountOfWebhook.delete(webhookId);
    decrement(this.byAccount, accountId);
    this.total -= 1;
  }
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
