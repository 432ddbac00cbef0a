import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** An API key; only the SHA-256 of the secret part is stored, so a database leak reveals no key. */
@Entity('api_keys')
export class ApiKey {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Index()
  @Column({ type: 'varchar' })
  accountId: string;

  @Column({ type: 'varchar' })
  name: string;

  @Index({ unique: true })
  @Column({ type: 'varchar' })
  keyHash: string;

  /** The first characters of the key (`dfk_AbCd`), enough for a person to tell keys apart. */
  @Column({ type: 'varchar' })
  prefix: string;

  @Column({ type: 'datetime' })
  createdAt: Date;

  @Column({ type: 'datetime', nullable: true })
  revokedAt: Date | null;
}
