import { randomBytes } from 'node:crypto';
import { generateWebhookSecret, webhookSecretOrGenerate } from '../../src/webhooks/webhook-secret';
import { CREATE_WEBHOOK } from '../helpers/fixtures';
import { errorOf, gql, TestAccount } from '../helpers/graphql';
import { startServerWithAccount, TestServer } from '../helpers/server';

const standard = (bytes: number) => `whsec_${randomBytes(bytes).toString('base64')}`;
const unpadded = standard(32).replace(/=+$/, '');

/** `whsec_` secrets that are not base64 of 24 to 64 bytes. */
const MALFORMED = [
  ['decodes to nothing', 'whsec_!!!!!!!!!!!!!!!!'],
  ['12 zero bytes', 'whsec_AAAAAAAAAAAAAAAA'],
  ['23 bytes', standard(23)],
  ['65 bytes', standard(65)],
  ['base64url alphabet', `whsec_${'-_'.repeat(16)}`],
  ['unpadded', unpadded],
  ['with a space', `whsec_${standard(32).slice(6, 20)} ${standard(32).slice(20)}`],
  ['non-zero padding bits', `whsec_${'A'.repeat(42)}B=`],
];

describe('webhook secrets in the Standard Webhooks form', () => {
  it.each(MALFORMED)('refuses a whsec_ secret that is %s', (_what, secret) => {
    expect(() => webhookSecretOrGenerate(secret)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'secret' }));
  });

  it.each([24, 32, 64])('accepts base64 of %i bytes after whsec_', (bytes) => {
    const secret = standard(bytes);
    expect(webhookSecretOrGenerate(secret)).toBe(secret);
  });

  it('accepts its own generated secrets and secrets of any other form', () => {
    const generated = generateWebhookSecret();
    expect(webhookSecretOrGenerate(generated)).toBe(generated);
    expect(webhookSecretOrGenerate('your_webhook_secret')).toBe('your_webhook_secret');
    expect(webhookSecretOrGenerate('whsec-not-the-prefix!!')).toBe('whsec-not-the-prefix!!');
  });
});

describe('createWebhook and rotateWebhookSecret refuse malformed whsec_ secrets', () => {
  let server: TestServer;
  let account: TestAccount;

  beforeAll(async () => ({ server, account } = await startServerWithAccount()));
  afterAll(() => server.stop());

  const ROTATE = 'mutation ($id: ID!, $secret: String) { rotateWebhookSecret(id: $id, secret: $secret) { secret } }';
  const create = (secret?: string) =>
    gql(server.url, CREATE_WEBHOOK, { input: { url: 'https://example.com/hook', events: ['BUILD_FAILED'], secret } }, account.apiKey);

  it.each(MALFORMED)('refuses a secret that is %s, naming the field', async (_what, secret) => {
    expect(errorOf(await create(secret))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'secret' });
    const id = (await create()).data.createWebhook.webhook.id;
    expect(errorOf(await gql(server.url, ROTATE, { id, secret }, account.apiKey))).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'secret',
    });
  });

  it('accepts a well-formed one at both', async () => {
    const secret = standard(24);
    const created = await create(secret);
    expect(created.data.createWebhook.secret).toBe(secret);
    const rotated = await gql(server.url, ROTATE, { id: created.data.createWebhook.webhook.id, secret: standard(64) }, account.apiKey);
    expect(rotated.errors).toBeUndefined();
  });
});
