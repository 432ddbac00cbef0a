import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { EventType } from './event-type';

/**
 * A stored event. `payload` holds the exact bytes every webhook receives, so signatures, redeliveries
 * and subscriptions all see the same body.
 */
@Entity('events')
@Index(['accountId', 'createdAt'])
@Index(['accountId', 'projectId', 'createdAt'])
@Index('IDX_events_position', ['position'], { unique: true })
@Index('IDX_events_account_position', ['accountId', 'position'])
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
   * The event's place in commit order, the cursor of the live feed and of resumed subscriptions;
   * null for `testWebhook` samples, which are never published.
   */
  @Column({ type: 'integer', nullable: true })
  position: number | null;

  /**
   * A sample made by `testWebhook`: delivered to that one webhook only, never published to
   * subscribers and left out of the `events` list.
   */
  @Column({ type: 'boolean', default: false })
  test: boolean;
}
