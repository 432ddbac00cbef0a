import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One committed change other processes must hear of (a delivery's new state, a webhook changed, a
 * key revoked), in commit order. Rows are a feed, not history: they are pruned after `CHANGE_RETENTION_MS`.
 */
@Entity('changes')
@Index('IDX_changes_createdAt', ['createdAt'])
export class Change {
  @PrimaryGeneratedColumn({ type: 'integer' })
  position: number;

  @Column({ type: 'varchar' })
  topic: string;

  /** The bus message, as JSON. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'datetime' })
  createdAt: Date;
}
