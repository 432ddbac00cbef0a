import { Worker, WorkerOptions } from './children';
import { Service, ServiceOptions, startService } from './service';

/** Everything one scenario run started; `close()` stops it all, whatever happened. */
export class Scope {
  private readonly cleanups: Array<() => Promise<void>> = [];

  constructor(private readonly lifetimeMs: number) {}

  /** Starts a bench process that cannot outlive this scenario's time budget. */
  async worker(name: string, options: Omit<WorkerOptions, 'lifetimeMs'> = {}): Promise<Worker> {
    const worker = await Worker.start(name, { lifetimeMs: this.lifetimeMs, ...options });
    this.cleanups.push(() => worker.stop());
    return worker;
  }

  async service(options: ServiceOptions = {}): Promise<Service> {
    const service = await startService(options);
    this.cleanups.push(() => service.stop());
    return service;
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) {
      await cleanup().catch(() => undefined);
    }
  }
}
