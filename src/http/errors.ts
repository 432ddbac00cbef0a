import { ErrorRequestHandler } from 'express';
import { Logger } from '../logger';

/** What a client may see of an error raised at the web edge. */
export interface EdgeError {
  status: number;
  code: string;
  message: string;
}

/**
 * An error raised before any API code runs (body parsing, size limit) as a client may see it: 413
 * `PAYLOAD_TOO_LARGE` for a body over the limit, 400 `BAD_REQUEST` for bad JSON, `BAD_REQUEST` with
 * its own status for any other client error. Null for anything else, which is ours to log and mask.
 */
// `any`: Express hands error middleware whatever was thrown; body-parser's errors carry `type` and `status`.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function edgeErrorOf(error: any): EdgeError | null {
  const status = typeof error?.status === 'number' ? error.status : 500;
  if (error?.type === 'entity.too.large') {
    return { status, code: 'PAYLOAD_TOO_LARGE', message: `Request body is larger than the limit of ${error.limit} bytes` };
  }
  if (error?.type === 'entity.parse.failed') return { status, code: 'BAD_REQUEST', message: 'Request body is not valid JSON' };
  if (status >= 400 && status < 500) return { status, code: 'BAD_REQUEST', message: 'Bad request' };
  return null;
}

/**
 * Errors raised before GraphQL runs (body parsing, size limit) answered in the GraphQL error shape,
 * with the right status and never a stack trace.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const edge = edgeErrorOf(error);
    if (!edge) logger.error({ err: error }, 'unexpected HTTP error');
    const { status, code, message } = edge ?? { status: 500, code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' };
    if (res.headersSent) return;
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}
