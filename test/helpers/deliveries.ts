import { AppDependencies } from '../../src/app';
import { gqlOk } from './graphql';
import { ConfigOverrides, startTestServer, TestServer } from './server';
import { waitFor } from './wait-for';

export const DELIVERY_FIELDS = `id webhookId status attemptCount nextAttemptAt createdAt completedAt
  event { id type test }
  attempts { number startedAt durationMs responseStatus responseBody error }`;

export interface DeliveryView {
  id: string;
  webhookId: string;
  status: 'PENDING' | 'SUCCEEDED' | 'FAILED';
  attemptCount: number;
  nextAttemptAt: string | null;
  createdAt: string;
  completedAt: string | null;
  event: { id: string; type: string; test: boolean };
  attempts: Array<{
    number: number;
    startedAt: string;
    durationMs: number;
    responseStatus: number | null;
    responseBody: string | null;
    error: string | null;
  }>;
}

/**
 * A test server with the delivery engine on and no jitter (`random` fixed at the middle), so retry
 * delays are exactly the configured ones.
 */
export function startDeliveryServer(overrides: ConfigOverrides = {}, deps: AppDependencies = {}): Promise<TestServer> {
  return startTestServer({ ...overrides, webhook: { dispatch: true, ...overrides.webhook } }, { random: () => 0.5, ...deps });
}

/** The account's deliveries (newest first), optionally of one webhook, through GraphQL. */
export async function listDeliveries(server: TestServer, key: string, webhookId?: string): Promise<DeliveryView[]> {
  const data = await gqlOk(
    server.url,
    `query ($webhookId: ID) { deliveries(first: 100, webhookId: $webhookId) { nodes { ${DELIVERY_FIELDS} } } }`,
    { webhookId },
    key,
  );
  return data.deliveries.nodes;
}

export async function getDelivery(server: TestServer, key: string, id: string): Promise<DeliveryView | null> {
  const data = await gqlOk(server.url, `query ($id: ID!) { delivery(id: $id) { ${DELIVERY_FIELDS} } }`, { id }, key);
  return data.delivery;
}

/** Polls until every listed delivery has ended (or `count` deliveries exist and all have ended). */
export function waitForEnded(
  server: TestServer,
  key: string,
  count: number,
  webhookId?: string,
  timeoutMs = 10_000,
): Promise<DeliveryView[]> {
  return waitFor(
    async () => {
      const deliveries = await listDeliveries(server, key, webhookId);
      return deliveries.length >= count && deliveries.every((delivery) => delivery.status !== 'PENDING') && deliveries;
    },
    { timeoutMs, what: `${count} ended deliveries` },
  );
}

export async function webhookHealth(
  server: TestServer,
  key: string,
  id: string,
): Promise<{ active: boolean; disabledReason: string | null; consecutiveFailures: number }> {
  const data = await gqlOk(server.url, 'query ($id: ID!) { webhook(id: $id) { active disabledReason consecutiveFailures } }', { id }, key);
  return data.webhook;
}
