import { Router } from 'express';

/** `GET /healthz`: 200 `{"status":"ok"}` when the database answers, 503 otherwise. */
export function healthRouter(ping: () => Promise<boolean>): Router {
  const router = Router();
  router.get('/healthz', async (_req, res) => {
    const ok = await ping();
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable' });
  });
  return router;
}
