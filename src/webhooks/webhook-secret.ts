import { randomBytes } from 'node:crypto';
import { InvalidInput } from '../errors';

export const SECRET_MIN = 16;
export const SECRET_MAX = 256;

/** Marks a Standard Webhooks secret: what follows is the base64 of the signing key. */
export const STANDARD_SECRET_PREFIX = 'whsec_';
/** Key sizes Standard Webhooks secrets have (its libraries generate 24 to 64 bytes). */
export const STANDARD_KEY_MIN_BYTES = 24;
export const STANDARD_KEY_MAX_BYTES = 64;

/** A generated secret in the Standard Webhooks form: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${STANDARD_SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/**
 * True when the part after `whsec_` is canonical, padded base64 of 24 to 64 bytes. Node's decoder
 * skips what is not base64, so `whsec_!!!!…` would otherwise be an empty key anyone can sign with.
 */
function isStandardSecret(secret: string): boolean {
  const encoded = secret.slice(STANDARD_SECRET_PREFIX.length);
  const key = Buffer.from(encoded, 'base64');
  return key.toString('base64') === encoded && key.length >= STANDARD_KEY_MIN_BYTES && key.length <= STANDARD_KEY_MAX_BYTES;
}

/** The given secret, checked, or a generated one when none is given. */
export function webhookSecretOrGenerate(secret: string | null | undefined): string {
  if (secret === undefined || secret === null) return generateWebhookSecret();
  if (secret.length < SECRET_MIN || secret.length > SECRET_MAX) {
    throw new InvalidInput('secret', `"secret" must be ${SECRET_MIN} to ${SECRET_MAX} characters`);
  }
  if (secret.startsWith(STANDARD_SECRET_PREFIX) && !isStandardSecret(secret)) {
    throw new InvalidInput(
      'secret',
      `"secret" starting with ${STANDARD_SECRET_PREFIX} must be base64 of ${STANDARD_KEY_MIN_BYTES} to ${STANDARD_KEY_MAX_BYTES} bytes, as Standard Webhooks secrets are`,
    );
  }
  return secret;
}
