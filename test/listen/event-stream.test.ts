import { EventStream } from '../../src/listen/event-stream';
import { ListenedEvent } from '../../src/listen/forwarder';
import { createAccountWithCli, useChildServers } from '../helpers/child-server';
import { createProject } from '../helpers/fixtures';
import { storedEvents } from '../helpers/stored';
import { waitFor } from '../helpers/wait-for';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

/**
 * The stream on its own, against a real service process that stops answering without closing
 * anything (SIGSTOP), as a connection looks after a laptop slept: the missing pongs end it.
 */
describe('the event stream of listen', () => {
  const rig = useChildServers('');
  let stream: EventStream | undefined;

  afterEach(() => stream?.stop());

  it('drops a connection whose pongs stop, reconnects when the service answers again, and resumes after the last event handled', async () => {
    const databasePath = freshDatabase(rig.dir, 'stream');
    const { accountId, apiKey } = createAccountWithCli(databasePath);
    const service = await rig.spawn(databaseEnv(databasePath));
    await createProject(service.url, apiKey, 'Before the stream');

    const handled: ListenedEvent[] = [];
    const statuses: string[] = [];
    let ready = false;
    stream = new EventStream({
      url: new URL(service.url.replace(/^http/, 'ws')),
      apiKey,
      types: null,
      handle: async (event) => {
        handled.push(event);
      },
      onReady: () => (ready = true),
      onStatus: (message) => statuses.push(message),
      reconnectDelayMs: () => 100,
      keepAliveMs: 200,
      pongTimeoutMs: 300,
      connectTimeoutMs: 1_000,
    });
    const running = stream.run();
    await waitFor(() => ready, { what: 'the stream to be ready' });
    await createProject(service.url, apiKey, 'Live');
    await waitFor(() => handled.length === 1, { what: 'the live event' });

    // Events committed by another process while the service is frozen.
    service.process.kill('SIGSTOP');
    await waitFor(() => statuses.some((status) => status.startsWith('connection lost (4499')), {
      what: `the dead connection to be dropped (${statuses})`,
    });
    const other = await rig.spawn(databaseEnv(databasePath));
    await createProject(other.url, apiKey, 'While frozen 1');
    await createProject(other.url, apiKey, 'While frozen 2');
    service.process.kill('SIGCONT');
    await waitFor(() => statuses.some((status) => status.startsWith('connected; resuming after')), {
      timeoutMs: 15_000,
      what: `the stream to resume (${statuses})`,
    });
    await createProject(service.url, apiKey, 'After');

    const expected = (await storedEvents(databasePath, accountId)).slice(1);
    await waitFor(() => handled.length >= expected.length, { what: `${expected.length} events (${statuses})` });
    expect(handled.map((event) => [event.id, event.body])).toEqual(expected.map((event) => [event.id, event.payload]));
    expect(handled.map((event) => event.type)).toEqual(['project.created', 'project.created', 'project.created', 'project.created']);

    stream.stop();
    await running;
    stream = undefined;
  }, 60_000);
});
