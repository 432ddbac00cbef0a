import PQueue from 'p-queue';
import { DataSource, EntityManager } from 'typeorm';

/** What a write transaction gets: its manager, and a way to act only once it has committed. */
export interface WriteTransaction {
  manager: EntityManager;
  /** Runs `effect` after the commit, before the next write starts; never when the transaction rolls back. */
  afterCommit(effect: () => void): void;
}

/**
 * Runs every write transaction one at a time. TypeORM's sqlite driver shares one connection among all
 * queries, so two interleaved transactions would share one SQLite transaction: a rollback of one was
 * seen to erase the other's committed rows. Serializing also gives a total commit order, which the
 * post-commit effects (publishing events) inherit.
 */
export class WriteSerializer {
  private readonly queue = new PQueue({ concurrency: 1 });

  constructor(
    private readonly dataSource: DataSource,
    private readonly onEffectError: (error: unknown) => void = () => {},
  ) {}

  /** Write transactions waiting for their turn (a metric of write pressure). */
  get waiting(): number {
    return this.queue.size;
  }

  write<T>(work: (tx: WriteTransaction) => Promise<T>): Promise<T> {
    return this.queue.add(async () => {
      const effects: Array<() => void> = [];
      const result = await this.dataSource.transaction((manager) =>
        work({ manager, afterCommit: (effect) => effects.push(effect) }),
      );
      for (const effect of effects) {
        try {
          effect();
        } catch (error) {
          this.onEffectError(error);
        }
      }
      return result;
    }) as Promise<T>;
  }

  /** Resolves once every queued write has finished. */
  idle(): Promise<void> {
    return this.queue.onIdle();
  }
}
