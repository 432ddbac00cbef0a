import { Column, Entity, Index, ManyToOne, PrimaryColumn } from 'typeorm';
import { Event } from '../events/event.entity';
import { newId } from '../ids';
import { DeliveryStatus } from './delivery-status';

/**
 * One event to one webhook. PENDING rows are the durable queue: the dispatcher rebuilds its work from
 * them after any restart. The webhook may be deleted later; its deliveries stay as history.
 */
@Entity('deliveries')
@Index(['accountId', 'createdAt'])
// A webhook's deliveries in creation order, with what Webhook.stats and recoverFailedDeliveries
// read of them (status, completion, id) so that both run on the index alone. One index for the
// webhook's list and for those: each index costs every delivery's insert and status change.
@Index(['webhookId', 'createdAt', 'status', 'completedAt', 'id'])
@Index(['eventId'])
@Index(['status', 'nextAttemptAt'])
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

  /** When the next attempt is due; null once the delivery has ended. */
  @Column({ type: 'datetime', nullable: true })
  nextAttemptAt: Date | null;

  @Column({ type: 'datetime' })
  createdAt: Date;

  @Column({ type: 'datetime', nullable: true })
  completedAt: Date | null;
}

/** A new PENDING delivery of an event to a webhook, due at `now`. */
export function newPendingDelivery(accountId: string, webhookId: string, eventId: string, now: Date): Delivery {
  return Object.assign(new Delivery(), {
    id: newId('dlv'),
    accountId,
    webhookId,
    eventId,
    status: DeliveryStatus.PENDING,
    attemptCount: 0,
    nextAttemptAt: now,
    createdAt: now,
    completedAt: null,
  });
}
