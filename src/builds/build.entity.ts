import { Column, Entity, Index, ManyToOne, PrimaryColumn } from 'typeorm';
import { Project } from '../projects/project.entity';
import { Arch, BuildStatus, Platform } from './build.enums';

@Entity('builds')
@Index(['projectId', 'queuedAt'])
export class Build {
  @PrimaryColumn({ type: 'varchar' })
  id: string;

  @Index()
  @Column({ type: 'varchar' })
  accountId: string;

  @Column({ type: 'varchar' })
  projectId: string;

  /** Deleting a project removes its builds. */
  @ManyToOne(() => Project, { onDelete: 'CASCADE', createForeignKeyConstraints: true })
  project?: Project;

  @Column({ type: 'varchar' })
  version: string;

  @Column({ type: 'varchar' })
  platform: Platform;

  @Column({ type: 'varchar' })
  arch: Arch;

  @Column({ type: 'varchar' })
  status: BuildStatus;

  @Column({ type: 'varchar', nullable: true })
  artifactUrl: string | null;

  @Column({ type: 'varchar', nullable: true })
  error: string | null;

  @Column({ type: 'datetime' })
  queuedAt: Date;

  @Column({ type: 'datetime', nullable: true })
  startedAt: Date | null;

  @Column({ type: 'datetime', nullable: true })
  finishedAt: Date | null;
}
