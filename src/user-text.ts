/**
 * Text from a client as it is stored, answered and signed: lone UTF-16 surrogates, which JSON can
 * carry but UTF-8 cannot, become U+FFFD, as SQLite would store them anyway. Services apply this once,
 * where text enters them, so the stored row, the GraphQL answer and the webhook body agree.
 */
export function userText<T extends string | null | undefined>(text: T): T {
  return (typeof text === 'string' ? text.toWellFormed() : text) as T;
}
