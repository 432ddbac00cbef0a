import { Column, Entity, Index, ManyToOne, PrimaryColumn } from 'typeorm';
import { Event } from '../events/event.entity';
import { newId } from '../ids';
import { DeliveryStatus } from './delivery-status';

/**
 * One event to one webhook. PENDING rows are the delivery queue: workers claim the due ones with a
 * lease (see `DeliveryQueue`). The webhook may be deleted later; its deliveries stay as history.
 */
@Entity('deliveries')
@Index(['accountId', 'createdAt'])
// A webhook's deliveries in creation order, with what Webhook.stats and recoverFailedDeliveries
// read of them (status, completion, id) so that both run on the index alone. One index for the
// webhook's list and for those: each index costs every delivery's insert and status change.
@Index(['webhookId', 'createdAt', 'status', 'completedAt', 'id'])
@Index(['eventId'])
@Index('IDX_deliveries_due_by_webhook', ['webhookId', 'status', 'nextAttemptAt'])
export class Delivery {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Column({ type: 'varchar' })
  accountId: string;

  @Column({ type: 'varchar' })
  webhookId: string;

  @Column({ type: 'varchar' })
  eventId: string;

  @ManyToOne(() => Event, { onDelete: 'CASCADE' })
  event?: Event;

  @Column({ type: 'varchar' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attemptCount: number;

  /**
   * When the next attempt is due; null once the delivery has ended. While a worker holds the
   * delivery, its lease's expiry: a lease that runs out makes the delivery due again.
   */
  @Column({ type: 'datetime', nullable: true })
  nextAttemptAt: Date | null;

  /** The worker process attempting the delivery now, if any (for operators; the token decides). */
  @Column({ type: 'varchar', nullable: true })
  leaseOwner: string | null;

  /** The claim's token: an outcome is stored only while the row still carries it. */
  @Column({ type: 'varchar', nullable: true })
  leaseToken: string | null;

  @Column({ type: 'datetime' })
  createdAt: Date;

  @Column({ type: 'datetime', nullable: true })
  completedAt: Date | null;
}

/** A new PENDING delivery of an event to a webhook, due at `now`. */
export function newPendingDelivery(accountId: string, webhookId: string, eventId: string, now: Date): Delivery {
  return Object.assign(new Delivery(), {
    id: newId('dlv', now.getTime()),
    accountId,
    webhookId,
    eventId,
    status: DeliveryStatus.PENDING,
    attemptCount: 0,
    nextAttemptAt: now,
    createdAt: now,
    completedAt: null,
    leaseOwner: null,
    leaseToken: null,
  });
}
