import { Sender } from '../../src/delivery/sender';
import { systemClock } from '../../src/clock';
import { Resolver } from '../../src/webhooks/url-policy';
import { createProject, createWebhook } from '../helpers/fixtures';
import { createAccount } from '../helpers/graphql';
import { startDeliveryServer, waitForEnded } from '../helpers/deliveries';
import { Receiver, startReceiver } from '../helpers/receiver';

describe('SSRF checks at send time', () => {
  let receiver: Receiver;
  beforeEach(async () => {
    receiver = await startReceiver('ssrf-secret-0123456789');
  });
  afterEach(() => receiver.close());

  it('refuses a name that resolved to a public address when saved and to loopback when sent', async () => {
    let address = '93.184.216.34';
    const resolve: Resolver = async (hostname) => (hostname === 'hook.test' ? [{ address, family: 4 }] : []);
    const server = await startDeliveryServer({ webhook: { allowPrivateUrls: false, retryDelaysMs: [20] } }, { resolve });
    try {
      const account = await createAccount(server.app);
      const webhook = await createWebhook(server.url, account.apiKey, {
        url: `https://hook.test:${receiver.port}/hook`,
        events: ['PROJECT_CREATED'],
        secret: receiver.secret,
      });
      address = '127.0.0.1';
      await createProject(server.url, account.apiKey);
      const [delivery] = await waitForEnded(server, account.apiKey, 1, webhook.id);
      expect(delivery.status).toBe('FAILED');
      expect(delivery.attempts).toHaveLength(2);
      for (const attempt of delivery.attempts) {
        expect(attempt).toMatchObject({
          responseStatus: null,
          error: 'refused: hook.test resolves to 127.0.0.1, which is not a public address (loopback, private or reserved)',
        });
      }
      expect(receiver.connections).toBe(0);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      await server.stop();
    }
  });

  describe('the sender alone', () => {
    const never: Resolver = async () => {
      throw new Error('IP literals must not be looked up');
    };
    const sender = new Sender({ timeoutMs: 1000, allowPrivateUrls: false, resolve: never, clock: systemClock });
    afterAll(() => sender.close());
    const send = (url: string) => sender.send({ url: new URL(url), headers: {}, body: '{}' });

    it.each([
      'https://127.0.0.1:PORT/hook',
      'https://[::1]:PORT/hook',
      'https://[::ffff:127.0.0.1]:PORT/hook',
      'https://[::127.0.0.1]:PORT/hook',
      'https://[64:ff9b::7f00:1]:PORT/hook',
    ])('refuses the private IP literal %s without connecting', async (template) => {
      const result = await send(template.replace('PORT', String(receiver.port)));
      expect(result.status).toBeNull();
      expect(result.error).toMatch(/^refused: .* is not a public address/);
      expect(receiver.connections).toBe(0);
    });

    it('refuses plain http:// without connecting', async () => {
      const result = await send(receiver.url);
      expect(result.error).toBe('refused: http:// targets are not allowed, only https://');
      expect(receiver.connections).toBe(0);
    });

    it.each([
      // Loopback first: even a broken check would connect only to the local receiver.
      ['with any private address among its answers', 'mixed.test', ['127.0.0.1', '93.184.216.34'], '127.0.0.1'],
      ['that resolves to an IPv4-compatible loopback address', 'compat.test', ['::7f00:1'], '::7f00:1'],
    ])('refuses a name %s', async (_what, host, addresses, refused) => {
      const resolving = new Sender({
        timeoutMs: 1000,
        allowPrivateUrls: false,
        resolve: async () => addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
        clock: systemClock,
      });
      try {
        const result = await resolving.send({ url: new URL(`https://${host}:${receiver.port}/hook`), headers: {}, body: '{}' });
        expect(result.error).toBe(`refused: ${host} resolves to ${refused}, which is not a public address (loopback, private or reserved)`);
        expect(receiver.connections).toBe(0);
      } finally {
        resolving.close();
      }
    });
  });
});
