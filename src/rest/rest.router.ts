import { Router } from 'express';
import { Logger } from '../logger';
import { openApiDocument } from './openapi';
import { RestError, restErrorHandler } from './rest-errors';
import { RestServices, webhooksRouter } from './webhooks.routes';

export interface RestOptions {
  services: RestServices;
  /** Largest accepted request body; larger ones get 413 PAYLOAD_TOO_LARGE. */
  bodyBytes: number;
  logger: Logger;
}

/**
 * The DeskForge page's REST endpoints (API.md section 8) and their OpenAPI document, a thin layer
 * over the same services as GraphQL. Mounted after every other route of the service: a request that
 * none of them took (`/webhooks;x`, `//webhooks`, any unknown path) is answered here, 404 NOT_FOUND in
 * the JSON error shape, never Express's HTML page.
 */
export function restRouter({ services, bodyBytes, logger }: RestOptions): Router {
  const router = Router();
  const document = openApiDocument({ bodyBytes });
  router.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  router.use(webhooksRouter(services, bodyBytes));
  router.use((req) => {
    throw new RestError(404, 'NOT_FOUND', `No such endpoint: ${req.method} ${req.originalUrl}`);
  });
  router.use(restErrorHandler(logger));
  return router;
}
