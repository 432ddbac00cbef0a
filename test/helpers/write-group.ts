import { TestServer } from './server';
import { waitFor } from './wait-for';

/**
 * Sends `requests` in order, each once the previous one's write has queued, behind a write held open
 * until all have queued; they then commit in one group (see `WriteSerializer`), so when the first
 * one's answer is resolved the later ones have committed too: the narrowest race between them, made
 * every time. Each request must make exactly one write. Resolves to their answers, in order.
 */
export async function commitTogether<T>(server: TestServer, requests: Array<() => Promise<T>>): Promise<T[]> {
  const writes = server.app.db.writes;
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const held = writes.write(() => gate);
  try {
    const answers: Array<Promise<T>> = [];
    for (const request of requests) {
      answers.push(request());
      await waitFor(() => writes.waiting >= answers.length, {
        what: `${answers.length} writes queued behind the held one`,
        timeoutMs: 5_000,
      });
    }
    open();
    await held;
    return await Promise.all(answers);
  } finally {
    open();
  }
}
