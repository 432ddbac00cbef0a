/**
 * Text from a client as it is stored, answered and signed, the same on both engines: lone UTF-16
 * surrogates, which JSON can carry but UTF-8 cannot, become U+FFFD, as SQLite would store them
 * anyway; so does U+0000, which SQLite stores but PostgreSQL refuses in any text value. Services
 * apply this once, where text enters them, so the stored row, the GraphQL answer and the webhook body
 * agree. Ids from clients go through `clientId` (ids.ts) instead.
 */
export function userText<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? text.toWellFormed().replaceAll('\u0000', '\ufffd') : text) as T;
}
