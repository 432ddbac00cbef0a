/**
 * Domain errors. Services throw these; `graphql/error-format.ts` is the one place that turns them
 * into GraphQL error codes. Nothing here knows about GraphQL or HTTP.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
}

/** The object does not exist for this account (another account's object looks exactly the same). */
export class NotFound extends DomainError {
  readonly code = 'NOT_FOUND';
  constructor(what: string) {
    super(`${what} not found`);
  }
}

/** The request is valid but the object's state forbids it (e.g. completing a build that never started). */
export class Conflict extends DomainError {
  readonly code = 'CONFLICT';
}

/** One input field is wrong; `field` is its bare name as in the schema (`url`, `events`, `first`). */
export class InvalidInput extends DomainError {
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** Missing, unknown or revoked API key. */
export class Unauthenticated extends DomainError {
  readonly code = 'UNAUTHENTICATED';
  constructor(message = 'A valid API key is required: send "Authorization: Bearer <apiKey>"') {
    super(message);
  }
}

/** The account already runs as many operations as it may at once (API.md §3); try again shortly. */
export class RateLimited extends DomainError {
  readonly code = 'RATE_LIMITED';
  constructor(
    message: string,
    /** Whole seconds after which a retry is likely to be let in (HTTP `Retry-After`). */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** The operation ran past its time budget and was stopped, its statements cancelled. */
export class Timeout extends DomainError {
  readonly code = 'TIMEOUT';
}

/** The operation's result would be larger than a response may be; ask for less. */
export class ResponseTooLarge extends DomainError {
  readonly code = 'RESPONSE_TOO_LARGE';
}
