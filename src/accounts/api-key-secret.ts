import { createHash, randomBytes } from 'node:crypto';

/** A new API key: `dfk_` + 43 URL-safe characters (32 random bytes). */
export function generateApiKey(): string {
  return `dfk_${randomBytes(32).toString('base64url')}`;
}

/**
 * Keys carry 256 random bits, so a plain SHA-256 is a safe, fast lookup hash (a slow password hash
 * only helps against low-entropy secrets).
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function looksLikeApiKey(key: string): boolean {
  return /^dfk_[A-Za-z0-9_-]{32,}$/.test(key);
}
