import { RequestHandler, Response } from 'express';
import { AccountsService, Viewer } from '../accounts/accounts.service';
import { RateLimited } from '../errors';
import { AccountGate } from '../graphql/account-gate';
import { ClientGone, OperationBudget, OperationLimits } from '../graphql/operation-budget';
import { viewerFromHeader } from './api-key-auth';

export interface AccountLimitsOptions {
  accounts: AccountsService;
  gate: AccountGate;
  /** Time and size of each request's operation; without it the request is only gated (REST). */
  limits?: OperationLimits;
  /** Answers a request refused for its account's concurrency (429), in the shape of the API it is for. */
  refuse(res: Response, error: RateLimited): void;
}

/**
 * Before an authenticated HTTP request runs: takes a turn of its account's `AccountGate` (or answers
 * 429 with `Retry-After`), gives it back when the answer has gone out or the client has left, and
 * starts the request's `OperationBudget`, stopped when the client goes away. Sets `res.locals.viewer`
 * (null without a valid key: the API itself refuses those) and `res.locals.budget`.
 */
export function accountLimits(options: AccountLimitsOptions): RequestHandler {
  return async (req, res, next) => {
    const viewer: Viewer | null = await viewerFromHeader(options.accounts, req.headers.authorization);
    res.locals.viewer = viewer;
    if (!viewer) return next();
    const { accountId } = viewer;
    try {
      await options.gate.enter(accountId);
    } catch (error) {
      if (!(error instanceof RateLimited)) throw error;
      res.set('Retry-After', String(error.retryAfterSeconds));
      options.refuse(res, error);
      return;
    }
    const budget = options.limits ? new OperationBudget(options.limits) : undefined;
    res.locals.budget = budget;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      options.gate.leave(accountId);
      if (!res.writableFinished) budget?.stop(new ClientGone());
      budget?.finish();
    };
    res.once('finish', leave);
    res.once('close', leave);
    next();
  };
}

/** 429 in GraphQL's error shape. */
export function refuseGraphQL(res: Response, error: RateLimited): void {
  res.status(429).json({ errors: [{ message: error.message, extensions: { code: error.code } }] });
}
