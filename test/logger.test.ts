import { randomBytes } from 'node:crypto';
import sqlite3 from 'sqlite3';
import { createLogger } from '../src/logger';
import { CREATE_WEBHOOK } from './helpers/fixtures';
import { errorOf, gql, TestAccount } from './helpers/graphql';
import { startServerWithAccount, TestServer } from './helpers/server';

/** A pino destination that keeps every line. */
function captureLines(): { lines: string[]; write(line: string): void } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line) };
}

/** Runs `sql` on a connection of its own to the same SQLite file, as another process would. */
function otherConnection(path: string) {
  const db = new sqlite3.Database(path);
  const run = (sql: string) => new Promise<void>((resolve, reject) => db.exec(sql, (error) => (error ? reject(error) : resolve())));
  const close = () => new Promise<void>((resolve) => db.close(() => resolve()));
  return { run, close };
}

const secretOf = () => `whsec_${randomBytes(32).toString('base64')}`;

describe('no secret or API key reaches the logs when a write fails', () => {
  let server: TestServer;
  let account: TestAccount;
  const capture = captureLines();

  beforeAll(
    async () => ({ server, account } = await startServerWithAccount({ logLevel: 'info' }, { logger: createLogger('info', capture) })),
  );
  afterAll(() => server.stop());

  const create = (secret: string) =>
    gql(server.url, CREATE_WEBHOOK, { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'], secret } }, account.apiKey);
  const rotate = (id: string, secret: string) =>
    gql(
      server.url,
      'mutation ($id: ID!, $secret: String) { rotateWebhookSecret(id: $id, secret: $secret) { secret } }',
      { id, secret },
      account.apiKey,
    );
  const errorLines = () =>
    capture.lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'unexpected error while resolving a request');

  function expectNoneOf(strings: string[]) {
    for (const line of capture.lines) for (const value of strings) expect(line).not.toContain(value);
  }

  it('createWebhook, rotateWebhookSecret and createApiKey refused by the database log the error without the row', async () => {
    const previous = secretOf();
    const webhookId = (await create(previous)).data.createWebhook.webhook.id;
    const other = otherConnection(server.config.databasePath);
    await other.run(`
      CREATE TRIGGER refuse_webhook_insert BEFORE INSERT ON webhooks BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
      CREATE TRIGGER refuse_webhook_update BEFORE UPDATE ON webhooks BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;
      CREATE TRIGGER refuse_key_insert BEFORE INSERT ON api_keys BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;`);
    await other.close();
    const created = secretOf();
    const rotated = secretOf();
    expect(errorOf(await create(created)).code).toBe('INTERNAL_SERVER_ERROR');
    expect(errorOf(await rotate(webhookId, rotated)).code).toBe('INTERNAL_SERVER_ERROR');
    const key = await gql(server.url, 'mutation { createApiKey(name: "ci") { key } }', {}, account.apiKey);
    expect(errorOf(key).code).toBe('INTERNAL_SERVER_ERROR');

    const errors = errorLines();
    expect(errors).toHaveLength(3);
    for (const { err } of errors) {
      expect(err).toMatchObject({
        type: 'QueryFailedError',
        code: 'SQLITE_CONSTRAINT',
        message: expect.stringContaining('refused by the test'),
      });
      expect(err.query.length).toBeLessThanOrEqual(200);
      expect(err.parameters).toBeUndefined();
    }
    expectNoneOf([previous, created, rotated, account.apiKey]);
  });

  it('a write that times out on a lock held by another process logs no secret', async () => {
    const other = otherConnection(server.config.databasePath);
    await other.run('DROP TRIGGER refuse_webhook_insert; BEGIN IMMEDIATE');
    const secret = secretOf();
    try {
      expect(errorOf(await create(secret)).code).toBe('INTERNAL_SERVER_ERROR');
    } finally {
      await other.run('ROLLBACK');
      await other.close();
    }
    expect(errorLines().at(-1).err).toMatchObject({ code: 'SQLITE_BUSY' });
    expectNoneOf([secret, account.apiKey]);
  });

  it('a query with 40,000 bound values logs a short line', async () => {
    const ids = Array.from({ length: 40_000 }, (_, i) => `evt_${i}_${'x'.repeat(20)}`);
    const failure = await server.app.db.reader
      .query(`SELECT id FROM events WHERE id IN (${ids.map(() => '?').join(', ')})`, ids)
      .catch((error: unknown) => error);
    const before = capture.lines.length;
    server.app.logger.error({ err: failure }, 'query failed');
    const [line] = capture.lines.slice(before);
    expect(JSON.parse(line).err.message).toMatch(/too many SQL variables/);
    expect(line.length).toBeLessThan(4096);
    expect(line).not.toContain(ids[0]);
  });
});
