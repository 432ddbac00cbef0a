import { randomBytes } from 'node:crypto';
import { Clock } from '../clock';
import { Database } from '../db/database';
import { EventType } from '../events/event-type';
import { claimDue, ClaimedRow, deliveryBodies, DueWebhook, dueWebhooks, Lease, releaseLeases } from './delivery.queries';

/** A delivery this worker holds: attempt it, then store the outcome under `leaseToken`. */
export interface ClaimedDelivery extends ClaimedRow {
  leaseToken: string;
  leaseExpiresAt: Date;
  type: EventType;
  payload: string;
}

/**
 * A worker in this process that takes new deliveries straight from the commit that made them: the
 * outbox inserts them already leased to it, and hands them over after the commit, bodies included,
 * so they need no claim and no read. Deliveries it has no room for are inserted due, for any worker.
 */
export interface LocalWorker {
  /**
   * Leases for the new deliveries of one write group (only one group is written at a time, and its
   * commit hands them over before the next begins): `leaseFor` answers null once the worker's window
   * would be full with what this group was already granted.
   */
  handOff(): { leaseFor(accountId: string, webhookId: string): Lease | null };
  /** Committed deliveries inserted under leases from `handOff`. */
  accept(deliveries: ClaimedDelivery[]): void;
}

/**
 * The deliveries table as a work queue shared by every worker process. A claim gives due rows a
 * lease (owner, token, expiry) in one write transaction; the expiry becomes the row's due time, so
 * the deliveries of a worker that died are due again once their leases run out, and no other worker
 * claims them before. Outcomes are stored only under the token (see `applyTransitions`).
 */
export class DeliveryQueue {
  /**
   * @param owner this process, as `leaseOwner` shows it.
   * @param leaseMs how long a claim holds (`WEBHOOK_LEASE_MS`, above the attempt timeout).
   */
  constructor(
    private readonly db: Database,
    private readonly clock: Clock,
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  /** Webhooks with deliveries due now, except `skip`. */
  dueWebhooks(skip: string[]): Promise<DueWebhook[]> {
    return dueWebhooks(this.db.serviceReader, this.clock.now(), skip);
  }

  /** Claims up to `grants` due deliveries per webhook, oldest due first, with their bodies. */
  async claim(grants: Map<string, number>): Promise<ClaimedDelivery[]> {
    if (grants.size === 0) return [];
    const now = this.clock.now();
    const lease = { owner: this.owner, token: randomBytes(12).toString('base64url'), expiresAt: new Date(now.getTime() + this.leaseMs) };
    const rows = await this.db.writes.write(({ manager }) => claimDue(manager, grants, now, lease));
    if (rows.length === 0) return [];
    const bodies = await deliveryBodies(
      this.db.serviceReader,
      rows.map((row) => row.id),
    );
    // A delivery whose event was deleted meanwhile is gone with it (the foreign key cascades).
    return rows.flatMap((row) => {
      const body = bodies.get(row.id);
      return body ? [{ ...row, leaseToken: lease.token, leaseExpiresAt: lease.expiresAt, type: body.type, payload: body.payload }] : [];
    });
  }

  /** Gives deliveries back unattempted (shutdown): due again at once for any worker. */
  async release(deliveries: Array<Pick<ClaimedDelivery, 'id' | 'leaseToken'>>): Promise<void> {
    if (deliveries.length === 0) return;
    await this.db.writes.write(({ manager }) =>
      releaseLeases(
        manager,
        deliveries.map(({ id, leaseToken }) => ({ id, token: leaseToken })),
        this.clock.now(),
      ),
    );
  }
}
