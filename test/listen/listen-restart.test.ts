import { generateWebhookSecret } from '../../src/webhooks/webhook-secret';
import { createAccountWithCli, useChildServers } from '../helpers/child-server';
import { createProject, UPDATE_PROJECT } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { ListenProcess, spawnListen } from '../helpers/listen-process';
import { storedEvents } from '../helpers/stored';
import { waitFor } from '../helpers/wait-for';
import { databaseEnv, freshDatabase } from '../helpers/test-database';

const SECRET = generateWebhookSecret();

/**
 * A real service process that dies (kill -9) and comes back on the same port and database while a
 * real `listen` runs: `listen` reconnects and resumes after the last event it forwarded.
 */
describe('listen across a service restart', () => {
  const rig = useChildServers(SECRET);
  const listens: ListenProcess[] = [];
  let databasePath: string;

  beforeEach(() => {
    databasePath = freshDatabase(rig.dir, 'listen');
  });
  afterEach(async () => {
    await Promise.all(listens.splice(0).map((listen) => listen.stop()));
  });

  const start = (env: Record<string, string> = {}) => rig.spawn({ ...databaseEnv(databasePath), ...env });

  /** `deskforge_subscriptions_active` of the service on `port`. */
  async function subscriptionsActive(port: number): Promise<number> {
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^deskforge_subscriptions_active (\d+)$/m.exec(metrics)?.[1]);
  }

  const eventIds = async (accountId: string): Promise<string[]> => (await storedEvents(databasePath, accountId)).map((event) => event.id);

  const forwardedTo = (path: string) => rig.receiver.requests.filter((request) => request.path === path);

  it('forwards every event exactly once and in commit order: before the drop, while it was away, right after the restart and after it resumed', async () => {
    const acme = createAccountWithCli(databasePath, 'Acme');
    // An account with no event yet when listen starts has nothing to resume after: listen reads its events instead.
    const fresh = createAccountWithCli(databasePath, 'Fresh');
    let service = await start();
    const { port } = service;
    const project = await createProject(service.url, acme.apiKey, 'Before listen');
    const [before] = await eventIds(acme.accountId);

    const args = (path: string) => [
      '--url',
      service.url,
      '--forward-to',
      `http://127.0.0.1:${rig.receiver.port}${path}`,
      '--secret',
      SECRET,
      '--json',
    ];
    const acmeListen = spawnListen(args('/acme'), acme.apiKey);
    const freshListen = spawnListen(args('/fresh'), fresh.apiKey);
    listens.push(acmeListen, freshListen);
    await Promise.all([acmeListen.waitForReady(), freshListen.waitForReady()]);
    await waitFor(async () => (await subscriptionsActive(port)) === 2, { what: 'both subscriptions' });

    const rename = (url: string, name: string) => gqlOk(url, UPDATE_PROJECT, { id: project.id, name }, acme.apiKey);
    await rename(service.url, 'Live 1');
    await rename(service.url, 'Live 2');
    await waitFor(() => forwardedTo('/acme').length === 2, { what: 'the live events' });

    service.process.kill('SIGKILL');
    await service.exited;
    await waitFor(() => acmeListen.stderr.includes('connection lost') && freshListen.stderr.includes('connection lost'), {
      what: 'both listens to notice',
    });

    // While the service is away, another process on the same database commits: listen cannot see these live.
    const other = await start();
    await rename(other.url, 'While away 1');
    await createProject(other.url, fresh.apiKey, 'Fresh while away');
    await rename(other.url, 'While away 2');
    other.process.kill('SIGTERM');
    expect(await other.exited).toEqual({ code: 0, signal: null });

    // Back on the same port: events right away, most likely before listen is back, then once it is.
    service = await start({ PORT: String(port) });
    await rename(service.url, 'Right after the restart');
    await createProject(service.url, fresh.apiKey, 'Fresh right after the restart');
    await waitFor(async () => (await subscriptionsActive(port)) === 2, { timeoutMs: 30_000, what: 'both listens to resubscribe' });
    await rename(service.url, 'Resumed');
    await createProject(service.url, fresh.apiKey, 'Fresh resumed');

    const acmeEvents = (await eventIds(acme.accountId)).filter((id) => id !== before);
    const freshEvents = await eventIds(fresh.accountId);
    expect([acmeEvents.length, freshEvents.length]).toEqual([6, 3]);
    await waitFor(() => forwardedTo('/acme').length >= acmeEvents.length && forwardedTo('/fresh').length >= freshEvents.length, {
      timeoutMs: 20_000,
      what: `every event (acme: ${acmeListen.stderr}; fresh: ${freshListen.stderr})`,
    });
    // One more event each, forwarded after everything before it: a duplicate would have come before it.
    await rename(service.url, 'Last');
    await createProject(service.url, fresh.apiKey, 'Fresh last');
    acmeEvents.push(...(await eventIds(acme.accountId)).slice(-1));
    freshEvents.push(...(await eventIds(fresh.accountId)).slice(-1));
    await waitFor(() => forwardedTo('/acme').length >= acmeEvents.length && forwardedTo('/fresh').length >= freshEvents.length, {
      what: 'the last events',
    });

    expect(forwardedTo('/acme').map((request) => request.headers['webhook-id'])).toEqual(acmeEvents);
    expect(forwardedTo('/fresh').map((request) => request.headers['webhook-id'])).toEqual(freshEvents);
    expect(rig.receiver.requests.every((request) => request.deskforgeValid && request.standardValid)).toBe(true);
    expect(acmeListen.json.slice(1).map((line) => [line.eventId, line.status])).toEqual(acmeEvents.map((id) => [id, 200]));
    expect(acmeListen.stderr).toMatch(/listen: connection lost \(1006.*\); reconnecting in/);
    expect(acmeListen.stderr).toContain('listen: connected; resuming after ');
    expect([acmeListen.process.exitCode, freshListen.process.exitCode]).toEqual([null, null]);
  }, 120_000);
});
