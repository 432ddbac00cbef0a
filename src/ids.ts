import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** `count` characters from [0-9A-Za-z], uniformly (rejection sampling, no modulo bias). */
export function randomAlphanumeric(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count * 2)) {
      if (byte < 248 && out.length < count) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

export type IdPrefix = 'acc' | 'key' | 'wh' | 'proj' | 'build' | 'evt' | 'dlv' | 'att';

/** An unguessable, prefixed id: 24 alphanumerics carry ~143 bits of randomness. */
export function newId(prefix: IdPrefix): string {
  return `${prefix}_${randomAlphanumeric(24)}`;
}
