import { newId, randomAlphanumeric } from '../../src/ids';
import { ManualClock } from '../helpers/clock';
import { createProject, createWebhook, QUEUE_BUILD } from '../helpers/fixtures';
import { createAccount, gqlOk } from '../helpers/graphql';
import { startTestServer } from '../helpers/server';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The creation time an id carries: its first 8 characters after the prefix, in base 62. */
function timeOf(id: string): number {
  const time = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 9);
  return [...time].reduce((ms, char) => ms * 62 + ALPHABET.indexOf(char), 0);
}

describe('ids', () => {
  it('are the prefix and 24 alphanumerics, all different', () => {
    const ids = Array.from({ length: 10_000 }, () => newId('dlv'));
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^dlv_[0-9A-Za-z]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sort by creation time (as SQLite compares text), whatever the random part', () => {
    const times = [0, 61, 62, 1_700_000_000_000, 1_700_000_000_001, 1_800_000_000_000, 62 ** 8 - 1];
    const ids = times.map((ms) => newId('evt', ms));
    expect([...ids].reverse().sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(ids);
  });

  it('draw their random characters uniformly', () => {
    const counts = new Map<string, number>();
    for (const char of randomAlphanumeric(62_000)) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(62);
    for (const count of counts.values()) expect(Math.abs(count - 1_000)).toBeLessThan(200);
  });

  it("carry the injected clock's time, not the system's", async () => {
    const at = Date.parse('2031-05-05T05:05:05.505Z');
    const server = await startTestServer({}, { clock: new ManualClock(at) });
    try {
      const account = await createAccount(server.app);
      const key = await gqlOk(server.url, 'mutation { createApiKey(name: "ci") { apiKey { id } } }', {}, account.apiKey);
      const webhook = await createWebhook(server.url, account.apiKey, {
        url: 'https://receiver.example.com/hook',
        events: ['PROJECT_CREATED', 'BUILD_SUCCEEDED'],
      });
      const project = await createProject(server.url, account.apiKey);
      const build = await gqlOk(
        server.url,
        QUEUE_BUILD,
        { input: { projectId: project.id, version: '1.0.0', platform: 'MAC', arch: 'ARM64' } },
        account.apiKey,
      );
      const test = await gqlOk(
        server.url,
        'mutation ($id: ID!) { testWebhook(id: $id, type: BUILD_SUCCEEDED) { id event { id payload } } }',
        { id: webhook.id },
        account.apiKey,
      );
      const deliveries = await gqlOk(
        server.url,
        'query ($id: ID) { deliveries(webhookId: $id) { nodes { id } } }',
        { id: webhook.id },
        account.apiKey,
      );
      const ids = {
        account: account.accountId,
        apiKey: key.createApiKey.apiKey.id,
        webhook: webhook.id,
        project: project.id,
        build: build.queueBuild.id,
        testEvent: test.testWebhook.event.id,
        sampleProject: test.testWebhook.event.payload.data.project.id,
        sampleBuild: test.testWebhook.event.payload.data.build.id,
        deliveries: deliveries.deliveries.nodes.map((node: { id: string }) => node.id),
      };
      expect(ids.deliveries).toHaveLength(2);
      const times = Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, Array.isArray(id) ? id.map(timeOf) : timeOf(id)]));
      expect(times).toEqual({
        account: at,
        apiKey: at,
        webhook: at,
        project: at,
        build: at,
        testEvent: at,
        sampleProject: at,
        sampleBuild: at,
        deliveries: [at, at],
      });
    } finally {
      await server.stop();
    }
  });
});
