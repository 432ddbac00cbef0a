import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Committed changes other processes must hear of (deliveries' new states, webhooks changed, keys
 * revoked), in commit order: one row per transaction and topic, its body the JSON array of that
 * transaction's messages on the topic, in order (`ChangeLog.recordAll`). Rows are a feed, not
 * history: they are pruned by position once an hour old (no index on `createdAt`: every index costs
 * a write).
 */
@Entity('changes')
export class Change {
  @PrimaryGeneratedColumn({ type: 'integer' })
  position: number;

  @Column({ type: 'varchar' })
  topic: string;

  /** The bus messages, as a JSON array. */
  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'datetime' })
  createdAt: Date;
}
