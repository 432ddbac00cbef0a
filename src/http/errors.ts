import { ErrorRequestHandler } from 'express';
import { Logger } from '../logger';

/**
 * Errors raised before GraphQL runs (body parsing, size limit) answered in the GraphQL error shape,
 * with the right status and never a stack trace: 413 for a body over the limit, 400 for bad JSON.
 */
export function httpErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const status = typeof error?.status === 'number' ? error.status : 500;
    let message = 'Internal server error';
    let code = 'INTERNAL_SERVER_ERROR';
    if (error?.type === 'entity.too.large') {
      message = `Request body is larger than the limit of ${error.limit} bytes`;
      code = 'PAYLOAD_TOO_LARGE';
    } else if (error?.type === 'entity.parse.failed') {
      message = 'Request body is not valid JSON';
      code = 'BAD_REQUEST';
    } else if (status >= 400 && status < 500) {
      message = 'Bad request';
      code = 'BAD_REQUEST';
    } else {
      logger.error({ err: error }, 'unexpected HTTP error');
    }
    if (res.headersSent) return;
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  };
}
