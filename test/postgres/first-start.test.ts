import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { postgresMigrations } from '../../src/db/migrations/postgres';
import { ROOT } from '../helpers/build';
import { ChildServer } from '../helpers/child-server';
import { CREATE_PROJECT, createWebhook } from '../helpers/fixtures';
import { gqlOk } from '../helpers/graphql';
import { originOf, pgRows, postgresEnv, usePostgresServers } from '../helpers/postgres';
import { freshDatabase } from '../helpers/test-database';
import { waitFor } from '../helpers/wait-for';

const SECRET = 'first-start-secret-0123';

/** The account CLI, run without waiting (it migrates too: one more process racing the servers). */
function accountCliAsync(url: string): Promise<{ accountId: string; apiKey: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'accounts', 'account-create.cli.js'), '--name', 'Acme'], {
    env: postgresEnv(url),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(stdout.trim())) : reject(new Error(`account:create exited ${code}: ${stderr}`)),
    ),
  );
}

/**
 * Three service processes and the account CLI started at the same moment on one empty PostgreSQL
 * database: the migrations run once (under the advisory lock, the others wait and find nothing left
 * to do), every process becomes healthy, and the schema they built is one that works across them.
 */
describe('concurrent first starts on an empty PostgreSQL database', () => {
  const rig = usePostgresServers(SECRET);

  it('all become healthy, each migration is recorded once, and what one instance writes the others read', async () => {
    const url = freshDatabase('');
    expect(await pgRows(url, `SELECT to_regclass('public.migrations') AS "table"`)).toEqual([{ table: null }]);
    const env = { WEBHOOK_ALLOW_PRIVATE_URLS: 'true', WEBHOOK_TIMEOUT_MS: '2000', WEBHOOK_LEASE_MS: '3000' };

    const [account, ...servers] = await Promise.all([accountCliAsync(url), rig.spawn(url, env), rig.spawn(url, env), rig.spawn(url, env)]);
    const [a, b, c] = servers as [ChildServer, ChildServer, ChildServer];
    for (const server of servers) {
      expect((await fetch(`${originOf(server)}/healthz`)).status).toBe(200);
      expect(server.logs.filter((entry) => typeof entry.level === 'number' && entry.level >= 50)).toEqual([]);
    }
    expect(new Set(servers.map((server) => server.process.pid)).size).toBe(3);

    // Each migration once, none unknown; the schema is whole (one row per table the entities need).
    const recorded = await pgRows<{ name: string }>(url, 'SELECT "name" FROM "migrations" ORDER BY "id"');
    expect(recorded.map((row) => row.name)).toEqual(postgresMigrations.map((migration) => new migration().name));
    const tables = await pgRows<{ name: string }>(
      url,
      `SELECT tablename AS "name" FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`,
    );
    expect(tables.map((row) => row.name)).toEqual(
      [
        'accounts',
        'api_keys',
        'builds',
        'changes',
        'deliveries',
        'delivery_attempts',
        'events',
        'migrations',
        'projects',
        'webhooks',
      ].sort(),
    );

    // The account made by the CLI while the servers started is known to all three.
    for (const server of servers) {
      expect((await gqlOk(server.url, '{ viewer { id } }', {}, account.apiKey)).viewer.id).toBe(account.accountId);
    }
    // Written through one instance, read through the others.
    const webhook = await createWebhook(a.url, account.apiKey, { url: rig.receiver.url, events: ['PROJECT_CREATED'], secret: SECRET });
    const { createProject } = await gqlOk(b.url, CREATE_PROJECT, { input: { name: 'Through B' } }, account.apiKey);
    const readThroughC = await gqlOk(
      c.url,
      'query ($id: ID!, $w: ID!) { project(id: $id) { id name } webhook(id: $w) { id url } events(first: 10) { nodes { type data { project { id } } } } }',
      { id: createProject.id, w: webhook.id },
      account.apiKey,
    );
    expect(readThroughC.project).toEqual({ id: createProject.id, name: 'Through B' });
    expect(readThroughC.webhook).toEqual({ id: webhook.id, url: rig.receiver.url });
    expect(readThroughC.events.nodes).toEqual([{ type: 'PROJECT_CREATED', data: { project: { id: createProject.id } } }]);
    const readThroughA = await gqlOk(a.url, 'query ($id: ID!) { project(id: $id) { name } }', { id: createProject.id }, account.apiKey);
    expect(readThroughA.project).toEqual({ name: 'Through B' });
    // And a worker delivers the event, validly signed.
    const arrived = await waitFor(() => rig.receiver.requests.find((request) => request.body?.data?.project?.id === createProject.id), {
      what: 'the delivery',
    });
    expect(arrived.deskforgeValid && arrived.standardValid).toBe(true);
  }, 60_000);
});
