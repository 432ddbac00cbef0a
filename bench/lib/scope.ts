import { Worker, WorkerOptions } from './children';
import { CreatedDatabase, DatabaseHost } from './databases';
import { Service, ServiceOptions, startService } from './service';

/** Everything one scenario run started; `close()` stops it all, whatever happened. */
export class Scope {
  private readonly cleanups: Array<() => Promise<void>> = [];

  /** `host`: where this run's services keep their data (the engine of the run). */
  constructor(
    private readonly lifetimeMs: number,
    readonly host: DatabaseHost,
  ) {}

  /** Starts a bench process that cannot outlive this scenario's time budget. */
  async worker(name: string, options: Omit<WorkerOptions, 'lifetimeMs'> = {}): Promise<Worker> {
    const worker = await Worker.start(name, { lifetimeMs: this.lifetimeMs, ...options });
    this.cleanups.push(() => worker.stop());
    return worker;
  }

  /** A service on a fresh database of the run's engine (or on `options.existing`). */
  async service(options: ServiceOptions = {}): Promise<Service> {
    const service = await startService(this.host, options);
    this.cleanups.push(() => service.stop());
    return service;
  }

  /** A fresh, empty database of the run's engine, not yet used by any service; dropped when the scope closes. */
  async database(): Promise<CreatedDatabase> {
    const created = await this.host.create();
    this.cleanups.push(() => created.drop());
    return created;
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await cleanup().catch(() => undefined);
    }
  }
}
