import { readRows } from '../../src/db/statement-cache';
import { createAccount } from '../helpers/graphql';
import { startTestServer, TestServer } from '../helpers/server';

describe('readRows', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.stop());

  it('takes `?` placeholders on either engine', async () => {
    const account = await createAccount(server.app);
    const rows = await readRows<{ id: string }>(server.app.db.reader, 'SELECT "id" FROM "accounts" WHERE "id" = ? AND "name" = ?', [
      account.accountId,
      'Acme',
    ]);
    expect(rows).toEqual([{ id: account.accountId }]);
  });
});
