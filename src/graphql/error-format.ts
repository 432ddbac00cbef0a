import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { DomainError, InvalidInput } from '../errors';
import { Logger } from '../logger';

/** Codes that graphql-js and Apollo produce for client mistakes; their messages are safe to show. */
const CLIENT_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'UNAUTHENTICATED',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** `Variable "$input" got invalid value … at "input.platform"` → `platform`; `at "input.events[1]"` → `events`. */
function fieldOfCoercionError(message: string): string | undefined {
  const at = /at "([^"]+)"/.exec(message)?.[1] ?? /^Variable "\$([^"]+)"/.exec(message)?.[1];
  return at
    ?.replace(/\[\d+\]/g, '')
    .split('.')
    .filter((part) => part !== '')
    .at(-1);
}

/**
 * The one place that decides what a client sees of an error: domain errors become their codes (with
 * `field` for bad input), client mistakes pass through, anything else is masked as
 * INTERNAL_SERVER_ERROR and logged in full. No stack trace ever leaves.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const unwrapped = unwrapResolverError(error);
    // A domain error wrapped outside any field (a refused turn, a stopped budget) has no path to unwrap by.
    const original =
      unwrapped instanceof GraphQLError && unwrapped.originalError instanceof DomainError ? unwrapped.originalError : unwrapped;
    const base = { locations: formatted.locations, path: formatted.path };
    if (original instanceof DomainError) {
      const extensions: Record<string, unknown> = { code: original.code };
      if (original instanceof InvalidInput) extensions.field = original.field;
      return { ...base, message: original.message, extensions };
    }
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && CLIENT_CODES.has(code)) {
      const extensions: Record<string, unknown> = { code };
      if (code === 'BAD_USER_INPUT') {
        const field = fieldOfCoercionError(formatted.message);
        if (field) extensions.field = field;
      }
      return { ...base, message: formatted.message, extensions };
    }
    if (original instanceof GraphQLError && !original.originalError && original.path === undefined) {
      return { ...base, message: formatted.message, extensions: { code: code ?? 'GRAPHQL_VALIDATION_FAILED' } };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while resolving a request');
    return { ...base, message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}
