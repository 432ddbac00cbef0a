import { createHmac } from 'node:crypto';
import { signatureHeaders, signPayload, standardWebhooksKey } from '../../src/delivery/signature';
import { deskforgeSignatureValid, standardVerifier } from '../helpers/receiver';

const body =
  '{"id":"evt_1","type":"project.created","createdAt":"2024-01-20T10:15:00.000Z","data":{"project":{"id":"proj_1","name":"My Desktop App"}}}';
const now = () => Math.floor(Date.now() / 1000);

describe('signatures', () => {
  it('X-DeskForge-Signature is what the DeskForge page snippet computes from the parsed body', () => {
    const signature = signPayload(body, 'your_webhook_secret');
    expect(signature).toBe(createHmac('sha256', 'your_webhook_secret').update(body).digest('hex'));
    expect(deskforgeSignatureValid(JSON.parse(body), signature, 'your_webhook_secret')).toBe(true);
    expect(deskforgeSignatureValid(JSON.parse(body), signature, 'another_secret_value')).toBe(false);
  });

  it('keys Standard Webhooks signatures with the decoded bytes of whsec_ secrets and the UTF-8 bytes of others', () => {
    const bytes = Buffer.alloc(32, 9);
    expect(standardWebhooksKey(`whsec_${bytes.toString('base64')}`)).toEqual(bytes);
    expect(standardWebhooksKey('plain-secret-ünïcode')).toEqual(Buffer.from('plain-secret-ünïcode', 'utf8'));
  });

  it.each([`whsec_${Buffer.alloc(32, 1).toString('base64')}`, 'your_webhook_secret'])(
    'the standardwebhooks library verifies them (secret %s)',
    (secret) => {
      const headers = signatureHeaders({ eventId: 'evt_1', timestampSeconds: now(), body, secret, previousSecret: null });
      expect(headers['webhook-id']).toBe('evt_1');
      expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
      expect(standardVerifier(secret).verify(body, headers)).toEqual(JSON.parse(body));
      expect(() => standardVerifier(secret).verify(body.replace('My', 'Your'), headers)).toThrow('No matching signature');
    },
  );

  it('signs webhook-signature with both secrets during a rotation, X-DeskForge-Signature with the new one only', () => {
    const headers = signatureHeaders({
      eventId: 'evt_1',
      timestampSeconds: now(),
      body,
      secret: 'new-secret-0123456789',
      previousSecret: 'old-secret-0123456789',
    });
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    expect(() => standardVerifier('new-secret-0123456789').verify(body, headers)).not.toThrow();
    expect(() => standardVerifier('old-secret-0123456789').verify(body, headers)).not.toThrow();
    expect(headers['x-deskforge-signature']).toBe(signPayload(body, 'new-secret-0123456789'));
  });

  it('is refused by the library outside its five-minute tolerance (replays)', () => {
    const secret = 'your_webhook_secret';
    const stale = signatureHeaders({ eventId: 'evt_1', timestampSeconds: now() - 6 * 60, body, secret, previousSecret: null });
    expect(() => standardVerifier(secret).verify(body, stale)).toThrow('Message timestamp too old');
  });
});
