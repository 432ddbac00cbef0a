import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One committed change other processes must hear of (a delivery's new state, a webhook changed, a
 * key revoked), in commit order. Rows are a feed, not history: they are pruned by position once an
 * hour old (no index on `createdAt`: each outcome appends a row, and every index costs a write).
 */
@Entity('changes')
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
