import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EventType } from './event-type';

/**
 * A stored event. `payload` holds the exact bytes every webhook receives, so signatures, redeliveries
 * and subscriptions all see the same body.
 */
@Entity('events')
@Index(['accountId', 'createdAt'])
@Index(['accountId', 'projectId', 'createdAt'])
export class Event {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Column({ type: 'varchar' })
  accountId: string;

  @Column({ type: 'varchar' })
  type: EventType;

  /** The project the event is about; kept after the project is deleted (no foreign key). */
  @Column({ type: 'varchar' })
  projectId: string;

  @Column({ type: 'varchar', nullable: true })
  buildId: string | null;

  @Column({ type: 'text' })
  payload: string;

  @Column({ type: 'datetime' })
  createdAt: Date;

  /**
   * A sample made by `testWebhook`: delivered to that one webhook only, never published to
   * subscribers and left out of the `events` list.
   */
  @Column({ type: 'boolean', default: false })
  test: boolean;
}
