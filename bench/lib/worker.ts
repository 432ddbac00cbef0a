/**
 * The child side of a bench process: answers the parent's requests over IPC and never outlives it.
 * Each process exits when the parent goes away (the IPC channel closes, even on `kill -9`) or when
 * its lifetime (`BENCH_LIFETIME_MS`, set by the parent) runs out, whichever comes first.
 */
// `any`: each handler declares the shape of the arguments its parent sends.
export type RequestHandler = (args: any) => unknown;

export interface WorkerRequest {
  id: number;
  cmd: string;
  args?: unknown;
}

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export function serveParent(handlers: Record<string, RequestHandler>): void {
  if (!process.send) throw new Error('a bench process must be started by the bench (it needs an IPC channel)');
  const lifetimeMs = Number(process.env.BENCH_LIFETIME_MS ?? 600_000);
  setTimeout(() => {
    process.stderr.write(`bench process ${process.argv[1]} ran past its ${lifetimeMs} ms lifetime\n`);
    process.exit(70);
  }, lifetimeMs).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: WorkerRequest) => {
    void answer(handlers, message);
  });
  process.send({ ready: true });
}

async function answer(handlers: Record<string, RequestHandler>, request: WorkerRequest): Promise<void> {
  let reply: WorkerReply;
  try {
    const handler = handlers[request.cmd];
    if (!handler) throw new Error(`unknown command ${request.cmd}`);
    reply = { id: request.id, ok: true, result: await handler(request.args) };
  } catch (error) {
    reply = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (process.connected) process.send!(reply);
}
