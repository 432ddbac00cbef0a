import { createAccount, gql, TestAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

describe('write serialization', () => {
  let server: TestServer;
  let account: TestAccount;
  const published: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    account = await createAccount(server.app);
    server.app.bus.subscribe('event', (event) => published.push(event.id));
    // A real failure in the middle of a transaction: the project row is already written when the
    // event insert aborts, so the whole transaction must roll back without touching the others.
    await server.app.db.dataSource.query(`
      CREATE TRIGGER fail_some_events BEFORE INSERT ON events
      WHEN NEW.payload LIKE '%"name":"fail-%'
      BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
  });
  afterAll(() => server.stop());

  it('keeps every committed row when many concurrent mutations fail half-way', async () => {
    const names = Array.from({ length: 120 }, (_, i) => (i % 3 === 0 ? `fail-${i}` : `ok-${i}`));
    const responses = await Promise.all(
      names.map((name) =>
        gql(server.url, 'mutation ($name: String!) { createProject(input: { name: $name }) { id name } }', { name }, account.apiKey),
      ),
    );
    const succeeded = responses.filter((response) => response.data?.createProject).map((response) => response.data.createProject.name);
    const failed = responses.filter((response) => response.errors);
    expect(succeeded.sort()).toEqual(names.filter((name) => name.startsWith('ok-')).sort());
    expect(failed).toHaveLength(40);
    for (const response of failed) expect(response.errors?.[0].extensions?.code).toBe('INTERNAL_SERVER_ERROR');

    const projects = await server.app.db.reader.query('SELECT name FROM projects');
    expect(projects.map((row: { name: string }) => row.name).sort()).toEqual([...succeeded].sort());
    const events = await server.app.db.reader.query("SELECT id FROM events WHERE type = 'project.created'");
    expect(events).toHaveLength(80);
    expect([...published].sort()).toEqual(events.map((row: { id: string }) => row.id).sort());
  });
});
