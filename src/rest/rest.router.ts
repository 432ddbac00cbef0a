import { Router } from 'express';
import { Logger } from '../logger';
import { openApiDocument } from './openapi';
import { restErrorHandler } from './rest-errors';
import { RestServices, webhooksRouter } from './webhooks.routes';

export interface RestOptions {
  services: RestServices;
  /** Largest accepted request body; larger ones get 413 PAYLOAD_TOO_LARGE. */
  bodyBytes: number;
  logger: Logger;
}

/**
 * The DeskForge page's REST endpoints (API.md section 8) and their OpenAPI document, a thin layer
 * over the same services as GraphQL. Requests to other paths pass through untouched.
 */
export function restRouter({ services, bodyBytes, logger }: RestOptions): Router {
  const router = Router();
  const document = openApiDocument({ bodyBytes });
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use(webhooksRouter(services, bodyBytes));
  router.use(restErrorHandler(logger));
  return router;
}
