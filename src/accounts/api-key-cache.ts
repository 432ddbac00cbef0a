import { Viewer } from './accounts.service';

/** How long a looked-up key is trusted without asking the database again. */
const TTL_MS = 60_000;
/** Most keys remembered; the oldest entry goes first beyond this. */
const MAX_ENTRIES = 10_000;

/**
 * Recently authenticated keys (by hash), so a request does not pay a database lookup for its key.
 * Only valid keys are cached. A revocation removes its entry at once (the `apiKeyRevoked` bus topic);
 * the TTL bounds how long a revocation that never reached this instance could go unnoticed.
 */
export class ApiKeyCache {
  private readonly entries = new Map<string, { viewer: Viewer; expiresAt: number }>();

  /** `now`: milliseconds since the epoch, from the app's clock. */
  constructor(private readonly now: () => number) {}

  get(keyHash: string): Viewer | undefined {
    const entry = this.entries.get(keyHash);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(keyHash);
      return undefined;
    }
    return entry.viewer;
  }

  set(keyHash: string, viewer: Viewer): void {
    this.entries.delete(keyHash);
    this.entries.set(keyHash, { viewer, expiresAt: this.now() + TTL_MS });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }

  forgetKey(apiKeyId: string): void {
    for (const [hash, entry] of this.entries) {
      if (entry.viewer.apiKeyId === apiKeyId) this.entries.delete(hash);
    }
  }
}
