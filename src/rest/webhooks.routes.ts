import express, { RequestHandler, Response, Router } from 'express';
import { AccountsService, Viewer } from '../accounts/accounts.service';
import { NotFound, Unauthenticated } from '../errors';
import { viewerFromHeader } from '../http/api-key-auth';
import { WebhooksService } from '../webhooks/webhooks.service';
import { RestError } from './rest-errors';
import { createWebhookFields, notAJsonObject } from './webhook.input';
import { webhookView } from './webhook.view';

/** What the REST endpoints call. */
export interface RestServices {
  accounts: AccountsService;
  webhooks: WebhooksService;
}

/** Sets `res.locals.accountId` from the API key, or refuses with 401 before the body is read. */
function authenticate(accounts: AccountsService): RequestHandler {
  return async (req, res, next) => {
    // `accountLimits` (app.ts) has read the key already when it runs before this router.
    const checked: Viewer | null | undefined = res.locals.viewer;
    const viewer = checked !== undefined ? checked : await viewerFromHeader(accounts, req.headers.authorization);
    if (!viewer) throw new Unauthenticated();
    res.locals.accountId = viewer.accountId;
    next();
  };
}

function accountIdOf(res: Response): string {
  const accountId: unknown = res.locals.accountId;
  if (typeof accountId !== 'string') throw new Unauthenticated();
  return accountId;
}

function methodNotAllowed(allowed: string): RequestHandler {
  return (req, res) => {
    res.set('Allow', allowed);
    throw new RestError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed}`);
  };
}

/**
 * The DeskForge page's webhook requests (API.md section 8): arguments in, a `WebhooksService` call,
 * its result out. Every rule is the service's; errors go to `restErrorHandler`.
 */
export function webhooksRouter(services: RestServices, bodyBytes: number): Router {
  const { webhooks } = services;
  const router = Router();
  router.use('/webhooks', authenticate(services.accounts));

  router
    .route('/webhooks')
    .get(async (_req, res) => {
      const all = await webhooks.listAll(accountIdOf(res));
      res.json({ webhooks: all.map(webhookView), total: all.length });
    })
    .post(jsonBody(bodyBytes), async (req, res) => {
      const fields = createWebhookFields(req.body);
      const { webhook, secret } = await webhooks.create(accountIdOf(res), fields);
      const generated = fields.secret === undefined ? { secret } : {};
      res
        .status(201)
        .location(`/webhooks/${webhook.id}`)
        .json({ ...webhookView(webhook), ...generated });
    })
    .all(methodNotAllowed('GET, POST'));

  router
    .route('/webhooks/:webhookId')
    .get(async (req, res) => {
      const webhook = await webhooks.get(accountIdOf(res), req.params.webhookId);
      if (!webhook) throw new NotFound('Webhook');
      res.json(webhookView(webhook));
    })
    .delete(async (req, res) => {
      res.json(await webhooks.delete(accountIdOf(res), req.params.webhookId));
    })
    .all(methodNotAllowed('GET, DELETE'));

  return router;
}

/**
 * Reads the body of a request that takes one, after the key was checked. Any content type is read as
 * JSON: the page's requests send application/json, and a forgotten header should not turn a good body
 * into a confusing error. An empty body, however it is framed (`Content-Length: 0`, an empty chunked
 * body), is refused as not a JSON object, as a missing one is: body-parser would make it `{}`, a
 * BAD_USER_INPUT about `url` for a request that sent nothing.
 */
function jsonBody(bodyBytes: number): RequestHandler {
  return express.json({
    limit: bodyBytes,
    strict: false,
    type: () => true,
    verify: (_req, _res, body) => {
      if (body.length === 0) throw notAJsonObject();
    },
  });
}
