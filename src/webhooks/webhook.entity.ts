import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EventType } from '../events/event-type';

const eventList = {
  to: (value: EventType[]) => value.join(','),
  from: (value: string) => (value ? (value.split(',') as EventType[]) : []),
};

@Entity('webhooks')
@Index(['accountId', 'createdAt'])
export class Webhook {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Column({ type: 'varchar' })
  accountId: string;

  @Column({ type: 'varchar', length: 2048 })
  url: string;

  /** Subscribed event types, stored as their dotted wire names. */
  @Column({ type: 'varchar', transformer: eventList })
  events: EventType[];

  @Column({ type: 'boolean', default: true })
  active: boolean;

  @Column({ type: 'varchar', nullable: true })
  description: string | null;

  @Column({ type: 'varchar' })
  secret: string;

  /** The secret before the last rotation, still used for a second signature until `previousSecretExpiresAt`. */
  @Column({ type: 'varchar', nullable: true })
  previousSecret: string | null;

  @Column({ type: 'datetime', nullable: true })
  previousSecretExpiresAt: Date | null;

  @Column({ type: 'varchar', nullable: true })
  disabledReason: string | null;

  /** Deliveries in a row that ended FAILED; a success resets it. */
  @Column({ type: 'integer', default: 0 })
  consecutiveFailures: number;

  @Column({ type: 'datetime' })
  createdAt: Date;

  @Column({ type: 'datetime' })
  updatedAt: Date;
}
