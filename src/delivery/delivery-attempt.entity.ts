import { Column, Entity, Index, ManyToOne, PrimaryColumn } from 'typeorm';
import { Delivery } from './delivery.entity';

/** One HTTP attempt of a delivery, kept for the user to see what their endpoint answered. */
@Entity('delivery_attempts')
@Index(['deliveryId', 'number'], { unique: true })
// Webhook.stats's durations of a delivery's attempts since a time, without reading the rows.
@Index(['deliveryId', 'startedAt', 'durationMs'])
export class DeliveryAttempt {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Column({ type: 'varchar' })
  deliveryId: string;

  @ManyToOne(() => Delivery, { onDelete: 'CASCADE' })
  delivery?: Delivery;

  @Column({ type: 'integer' })
  number: number;

  @Column({ type: 'datetime' })
  startedAt: Date;

  @Column({ type: 'integer' })
  durationMs: number;

  @Column({ type: 'integer', nullable: true })
  responseStatus: number | null;

  /** The first 4 KiB of the response body. */
  @Column({ type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ type: 'varchar', nullable: true })
  error: string | null;
}
