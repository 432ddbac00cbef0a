import pino from 'pino';

export type Logger = pino.Logger;

/** Enough of a failed statement to tell which one it was; its values are never logged. */
const SQL_HEAD_CHARS = 200;
/** Longest message or stack kept, so that no error makes a megabyte line. */
const TEXT_CHARS = 2_000;
/** How far `cause` and aggregated errors are followed. */
const NESTING = 3;
/**
 * The properties of an error worth a log line: the driver's or the system's code, never the row
 * being written (`parameters`), a request body, headers or anything else an error may carry.
 */
const FACTS = ['code', 'errno', 'syscall', 'status', 'statusCode', 'field'] as const;

function clip(text: string, max = TEXT_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

type ErrorLike = Error & Record<string, unknown>;

/**
 * pino's `err` serializer. The standard one copies every property of an error, and TypeORM's
 * `QueryFailedError` carries the SQL and its `parameters`, the row being written, secrets included.
 * This keeps the type, message, stack and the plain `FACTS`, the first 200 characters of the SQL
 * (placeholders, not values), and the causes.
 */
export function serializeError(error: unknown, nesting = 0): Record<string, unknown> {
  if (!(error instanceof Object) || typeof (error as ErrorLike).message !== 'string') return { message: clip(String(error)) };
  const failure = error as ErrorLike;
  const serialized: Record<string, unknown> = {
    type: failure.constructor?.name ?? failure.name,
    message: clip(failure.message),
    stack: typeof failure.stack === 'string' ? clip(failure.stack) : undefined,
  };
  for (const fact of FACTS) {
    const value = failure[fact];
    if (typeof value === 'string') serialized[fact] = clip(value, SQL_HEAD_CHARS);
    else if (typeof value === 'number' || typeof value === 'boolean') serialized[fact] = value;
  }
  if (typeof failure.query === 'string') serialized.query = failure.query.slice(0, SQL_HEAD_CHARS);
  if (nesting < NESTING) {
    if (failure.cause !== undefined) serialized.cause = serializeError(failure.cause, nesting + 1);
    if (Array.isArray(failure.errors)) serialized.errors = failure.errors.slice(0, 10).map((inner) => serializeError(inner, nesting + 1));
  }
  return serialized;
}

/**
 * Structured JSON logs, on stdout unless `destination` is given (tests capture them). No secret, API
 * key or signature may reach a line: errors go through `serializeError`, and the keys that hold
 * secrets are redacted wherever they appear in a log object.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'deskforge-webhooks' },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      redact: [
        '*.authorization',
        'req.headers.authorization',
        'secret',
        '*.secret',
        'previousSecret',
        '*.previousSecret',
        'apiKey',
        '*.apiKey',
      ],
    },
    destination,
  );
}
