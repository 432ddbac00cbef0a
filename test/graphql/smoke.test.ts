import { createAccount, gql, gqlOk } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

describe('server smoke', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('answers viewer for a valid key and 401 without one', async () => {
    const account = await createAccount(server.app, 'Acme');
    const data = await gqlOk(server.url, '{ viewer { id name } }', {}, account.apiKey);
    expect(data.viewer).toEqual({ id: account.accountId, name: 'Acme' });
    const anonymous = await gql(server.url, '{ viewer { id } }');
    expect(anonymous.status).toBe(401);
    expect(anonymous.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });
});
