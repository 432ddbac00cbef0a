import { ErrorRequestHandler } from 'express';
import { DomainError, InvalidInput } from '../errors';
import { edgeErrorOf } from '../http/errors';
import { Logger } from '../logger';

/** The body of every REST error answer (API.md section 8). */
export interface RestErrorBody {
  error: { code: string; message: string; field?: string };
}

/** A refusal of the REST layer itself, before any service runs: a body that is not a JSON object, no such route or method. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP status of each domain error's code; the codes are the GraphQL API's. */
const STATUS_OF_DOMAIN_CODE: Record<string, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
};

function restErrorOf(error: unknown): { status: number; body: RestErrorBody } | null {
  if (error instanceof DomainError) {
    const body: RestErrorBody = { error: { code: error.code, message: error.message } };
    if (error instanceof InvalidInput) body.error.field = error.field;
    return { status: STATUS_OF_DOMAIN_CODE[error.code] ?? 400, body };
  }
  if (error instanceof RestError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  const edge = edgeErrorOf(error);
  return edge && { status: edge.status, body: { error: { code: edge.code, message: edge.message } } };
}

/**
 * The one place that decides what a REST client sees of an error (as `graphql/error-format.ts` does
 * for GraphQL): domain errors become their codes and statuses (with `field` for bad input), body
 * errors 400 or 413, anything else a generic 500 logged in full. No stack trace ever leaves.
 */
export function restErrorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    const known = restErrorOf(error);
    if (!known) logger.error({ err: error, method: req.method, path: req.path }, 'unexpected error in a REST request');
    const { status, body } = known ?? { status: 500, body: { error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } } };
    if (res.headersSent) return;
    res.status(status).json(body);
  };
}
