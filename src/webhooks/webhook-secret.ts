import { randomBytes } from 'node:crypto';
import { InvalidInput } from '../errors';

export const SECRET_MIN = 16;
export const SECRET_MAX = 256;

/** A generated secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** The given secret, checked, or a generated one when none is given. */
export function webhookSecretOrGenerate(secret: string | null | undefined): string {
  if (secret === undefined || secret === null) return generateWebhookSecret();
  if (secret.length < SECRET_MIN || secret.length > SECRET_MAX) {
    throw new InvalidInput('secret', `"secret" must be ${SECRET_MIN} to ${SECRET_MAX} characters`);
  }
  return secret;
}
