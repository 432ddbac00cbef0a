import { checkWebhookUrl, isPublicAddress, Resolver, UrlPolicyError } from '../../src/webhooks/url-policy';
import { CREATE_WEBHOOK } from '../helpers/fixtures';
import { errorOf, gql, TestAccount } from '../helpers/graphql';
import { startServerWithAccount, TestServer } from '../helpers/server';

/** IPv6 addresses that carry a non-public IPv4 address: IPv4-compatible, IPv4-mapped and NAT64. */
const EMBEDDED_PRIVATE = [
  '::127.0.0.1',
  '::7f00:1',
  '::10.0.0.1',
  '::169.254.169.254',
  '::192.168.1.1',
  '::100.64.0.1',
  '::ffff:127.0.0.1',
  '::ffff:7f00:1',
  '::ffff:10.0.0.1',
  '64:ff9b::127.0.0.1',
  '64:ff9b::a9fe:a9fe',
  '64:ff9b::10.0.0.1',
];

/** A name that resolves to an IPv4-compatible loopback address. */
const resolve: Resolver = async (hostname) => {
  if (hostname === 'compat.test') return [{ address: '::7f00:1', family: 6 }];
  if (hostname === 'nat64.test') return [{ address: '64:ff9b::a00:1', family: 6 }];
  return [{ address: '93.184.216.34', family: 4 }];
};

describe('isPublicAddress', () => {
  it.each(EMBEDDED_PRIVATE)('judges %s by the IPv4 address inside: not public', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['::8.8.8.8', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8', '64:ff9b::808:808', '93.184.216.34', '2606:4700:4700::1111'])(
    'lets the public %s through',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );

  it.each(['::', '::1', '127.0.0.1', 'fe80::1', 'fc00::1', '64:ff9b:1::a00:1', '2002:7f00:1::', 'not an address'])(
    'refuses %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(false);
    },
  );
});

describe('checkWebhookUrl', () => {
  it.each([...EMBEDDED_PRIVATE.map((address) => `https://[${address}]/hook`), 'https://compat.test/hook', 'https://nat64.test/hook'])(
    'refuses %s',
    async (url) => {
      await expect(checkWebhookUrl(url, false, resolve)).rejects.toBeInstanceOf(UrlPolicyError);
    },
  );

  it('accepts a public address embedded in IPv6', async () => {
    await expect(checkWebhookUrl('https://[::ffff:8.8.8.8]/hook', false, resolve)).resolves.toBe('https://[::ffff:8.8.8.8]/hook');
  });
});

describe('webhook URLs that embed a private IPv4 address in IPv6', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => ({ server, account } = await startServerWithAccount({ webhook: { allowPrivateUrls: false } }, { resolve })));
  afterAll(() => server.stop());

  const URLS = [
    'https://[::127.0.0.1]/',
    'https://[::10.0.0.1]/',
    'https://[::169.254.169.254]/',
    'https://[::7f00:1]/',
    'https://compat.test/',
  ];

  it.each(URLS)('refuses %s at createWebhook', async (url) => {
    const response = await gql(server.url, CREATE_WEBHOOK, { input: { url, events: ['BUILD_FAILED'] } }, account.apiKey);
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });

  it.each(URLS)('refuses %s at updateWebhook', async (url) => {
    const created = await gql(
      server.url,
      CREATE_WEBHOOK,
      { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'] } },
      account.apiKey,
    );
    const id = created.data.createWebhook.webhook.id;
    const response = await gql(
      server.url,
      'mutation ($id: ID!, $url: String) { updateWebhook(id: $id, input: { url: $url }) { url } }',
      { id, url },
      account.apiKey,
    );
    expect(errorOf(response)).toMatchObject({ code: 'BAD_USER_INPUT', field: 'url' });
  });
});
