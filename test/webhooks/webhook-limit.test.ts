import { CREATE_WEBHOOK } from '../helpers/fixtures';
import { createAccount, errorOf, gql, TestAccount } from '../helpers/graphql';
import { rest } from '../helpers/rest';
import { startTestServer, TestServer } from '../helpers/server';
import { databaseOverrides } from '../helpers/test-database';

const INPUT = { url: 'https://hooks.example.com/deskforge', events: ['BUILD_FAILED'] };
const BODY = { url: 'https://hooks.example.com/deskforge', events: ['build.failed'] };

/** API.md §3: an account holds at most 500 webhooks; the next create, over GraphQL or REST, is CONFLICT. */
describe('at most 500 webhooks per account', () => {
  let first: TestServer;
  let second: TestServer;

  beforeAll(async () => {
    first = await startTestServer();
    // A second process on the same database: its writes are not serialized with the first's.
    second = await startTestServer(databaseOverrides(first.config.databaseUrl ?? first.config.databasePath));
  });
  afterAll(async () => {
    await second?.stop();
    await first?.stop();
  });

  /** `count` webhooks made through the service, in parallel (they commit in groups). */
  const fill = (account: TestAccount, count: number) =>
    Promise.all(
      Array.from({ length: count }, () =>
        first.app.services.webhooks.create(account.accountId, { ...INPUT, events: [...INPUT.events] } as never),
      ),
    );
  const held = async (account: TestAccount) => (await first.app.services.webhooks.listAll(account.accountId)).length;
  const createOverGraphQL = (server: TestServer, account: TestAccount) => gql(server.url, CREATE_WEBHOOK, { input: INPUT }, account.apiKey);
  const createOverRest = (server: TestServer, account: TestAccount) =>
    rest(server.origin, 'POST', '/webhooks', { key: account.apiKey, body: BODY });

  it('the 501st createWebhook is CONFLICT over GraphQL and 409 over REST; other accounts are unaffected; a delete makes room', async () => {
    expect(first.config.limits.webhooksPerAccount).toBe(500);
    const acme = await createAccount(first.app, 'Acme');
    const globex = await createAccount(first.app, 'Globex');
    await fill(acme, 499);
    const last = await createOverGraphQL(first, acme);
    expect(last.errors).toBeUndefined();
    expect(await held(acme)).toBe(500);

    const graphql = await createOverGraphQL(first, acme);
    expect(errorOf(graphql)).toEqual({
      code: 'CONFLICT',
      field: undefined,
      message: 'An account holds at most 500 webhooks: delete one before creating another',
    });
    const posted = await createOverRest(first, acme);
    expect({ status: posted.status, body: posted.body }).toEqual({
      status: 409,
      body: { error: { code: 'CONFLICT', message: 'An account holds at most 500 webhooks: delete one before creating another' } },
    });
    expect(await held(acme)).toBe(500);

    expect((await createOverRest(first, globex)).status).toBe(201);
    const deleted = await rest(first.origin, 'DELETE', `/webhooks/${last.data.createWebhook.webhook.id}`, { key: acme.apiKey });
    expect(deleted.status).toBe(200);
    expect((await createOverRest(first, acme)).status).toBe(201);
    expect(await held(acme)).toBe(500);
  });

  it('holds when two processes create at once: exactly the room left is taken', async () => {
    const initech = await createAccount(first.app, 'Initech');
    await fill(initech, 492);
    // Eight at once through each process (the most one account runs at once in a process).
    const answers = await Promise.all([
      ...Array.from({ length: 8 }, () => createOverGraphQL(first, initech).then((response) => errorOf(response).code ?? 'created')),
      ...Array.from({ length: 8 }, () =>
        createOverRest(second, initech).then((response) => (response.status === 201 ? 'created' : response.body?.error?.code)),
      ),
    ]);
    expect(answers.filter((answer) => answer === 'created')).toHaveLength(8);
    expect(answers.filter((answer) => answer !== 'created')).toEqual(Array(8).fill('CONFLICT'));
    expect(await held(initech)).toBe(500);
  });
});
