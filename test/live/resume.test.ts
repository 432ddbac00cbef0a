import { createProject, UPDATE_PROJECT } from '../helpers/fixtures';
import { createAccount, gqlOk, TestAccount } from '../helpers/graphql';
import { connectLiveOk, LiveClient, waitForActiveSubscriptions } from '../helpers/live-client';
import { startTestServer, TestServer } from '../helpers/server';
import { sql } from '../helpers/test-database';

const RESUME = `subscription ($after: ID, $types: [EventType!], $projectId: ID) {
  events(after: $after, types: $types, projectId: $projectId) { id type data { project { id name } } }
}`;

describe('resuming the events subscription (`after`)', () => {
  let server: TestServer;
  let acme: TestAccount;
  let other: TestAccount;
  const clients: LiveClient[] = [];
  const connect = async (key: string) => {
    const live = await connectLiveOk(server.wsUrl, key);
    clients.push(live);
    return live;
  };
  /** The account's event ids in commit order, straight from the event log. */
  const eventIds = async (account: TestAccount): Promise<string[]> =>
    (
      await sql<{ id: string }>(server.app.db.reader, 'SELECT id FROM events WHERE "accountId" = ? AND NOT "test" ORDER BY position', [
        account.accountId,
      ])
    ).map((row) => row.id);

  beforeAll(async () => {
    server = await startTestServer({ live: { bufferSize: 50 } });
    acme = await createAccount(server.app, 'Acme');
    other = await createAccount(server.app, 'Other');
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((live) => live.close()));
    await waitForActiveSubscriptions(server.app, 0);
  });
  afterAll(() => server.stop());

  it('replays every later event of the account in commit order, then goes live, with no gap and no duplicate while writes commit during the switch', async () => {
    const first = await createProject(server.url, acme.apiKey, 'Resume 0');
    const [resumeFrom] = await eventIds(acme);
    // More missed events than one replay page (100) and than the subscriber's buffer (50).
    for (let i = 1; i <= 130; i += 1) await gqlOk(server.url, UPDATE_PROJECT, { id: first.id, name: `Missed ${i}` }, acme.apiKey);
    await createProject(server.url, other.apiKey, 'Not yours');

    const live = await connect(acme.apiKey);
    const sub = live.subscribe(RESUME, { after: resumeFrom });
    // Writes keep committing while the replay runs and the subscription switches to live.
    const writing = (async () => {
      for (let i = 1; i <= 40; i += 1) await gqlOk(server.url, UPDATE_PROJECT, { id: first.id, name: `During ${i}` }, acme.apiKey);
    })();
    await writing;
    const all = await eventIds(acme);
    const expected = all.slice(all.indexOf(resumeFrom) + 1);
    expect(expected).toHaveLength(170);
    const received = (await sub.waitForData(expected.length, 20_000)).map((data) => data.events.id);
    expect(received).toEqual(expected);
    expect(sub.error).toBeUndefined();

    // And it is live now.
    const later = await createProject(server.url, acme.apiKey, 'Live after resume');
    const [last] = (await sub.waitForData(expected.length + 1)).slice(-1);
    expect(last.events.data.project.id).toBe(later.id);
    expect(sub.data).toHaveLength(expected.length + 1);
  }, 60_000);

  it('applies the filters to the replayed part', async () => {
    const kept = await createProject(server.url, acme.apiKey, 'Kept');
    const [resumeFrom] = (await eventIds(acme)).slice(-1);
    const dropped = await createProject(server.url, acme.apiKey, 'Dropped');
    await gqlOk(server.url, UPDATE_PROJECT, { id: dropped.id, name: 'Dropped again' }, acme.apiKey);
    await gqlOk(server.url, UPDATE_PROJECT, { id: kept.id, name: 'Kept again' }, acme.apiKey);
    await gqlOk(server.url, UPDATE_PROJECT, { id: kept.id, name: 'Kept once more' }, acme.apiKey);

    const live = await connect(acme.apiKey);
    const sub = live.subscribe(RESUME, { after: resumeFrom, types: ['PROJECT_UPDATED'], projectId: kept.id });
    const replayed = await sub.waitForData(2);
    expect(replayed.map((data) => [data.events.type, data.events.data.project.name])).toEqual([
      ['PROJECT_UPDATED', 'Kept again'],
      ['PROJECT_UPDATED', 'Kept once more'],
    ]);
    await gqlOk(server.url, UPDATE_PROJECT, { id: kept.id, name: 'Kept live' }, acme.apiKey);
    const [, , liveOne] = await sub.waitForData(3);
    expect(liveOne.events.data.project.name).toBe('Kept live');
  });

  it("ends with NOT_FOUND for an unknown event id or another account's", async () => {
    await createProject(server.url, other.apiKey, 'Foreign');
    const [foreign] = (await eventIds(other)).slice(-1);
    const live = await connect(acme.apiKey);
    for (const after of ['evt_doesnotexist', foreign]) {
      const sub = live.subscribe(RESUME, { after });
      await sub.waitForEnd();
      const errors = sub.results.flatMap((result) => result.errors ?? []);
      expect(errors.map((error) => error.extensions?.code)).toEqual(['NOT_FOUND']);
      expect(sub.data).toEqual([]);
    }
  });
});
