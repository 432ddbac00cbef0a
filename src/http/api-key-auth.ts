import { AccountsService, Viewer } from '../accounts/accounts.service';

/** The key of an `Authorization: Bearer <key>` value (case-insensitive scheme), or null. */
function bearerKey(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : null;
}

/**
 * The viewer behind an Authorization header value, or null when missing, malformed, unknown or
 * revoked. Every way in (GraphQL over HTTP, WebSocket, REST) authenticates through this.
 */
export async function viewerFromHeader(accounts: AccountsService, header: unknown): Promise<Viewer | null> {
  const key = bearerKey(header);
  return key ? accounts.authenticate(key) : null;
}
