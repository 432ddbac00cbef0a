import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { EVENTS_SUBSCRIPTION, QUEUE_BUILD } from './documents';
import { graphqlRequest } from './graphql-client';
import { delay } from './pacer';
import { Service } from './service';

/**
 * Subscribes one graphql-ws client to `events`, makes events until one arrives, and returns that
 * `next` message as the bytes the server sent (graphql-ws frames messages with `JSON.stringify`).
 * The broadcast baseline then sends exactly this shape. Throws when nothing arrives in `timeoutMs`.
 */
export async function captureEventMessage(service: Service, projectId: string, timeoutMs = 10_000): Promise<string> {
  let captured: string | undefined;
  let failure: string | undefined;
  const client = createClient({
    url: service.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${service.apiKey}` },
    retryAttempts: 0,
    on: {
      message: (message) => {
        if (message.type === 'next') captured ??= JSON.stringify(message);
      },
      closed: (event) => (failure ??= `socket closed (${(event as { code?: number }).code})`),
      error: (error) => (failure ??= (error as { message?: string }).message ?? 'socket error'),
    },
  });
  const unsubscribe = client.subscribe(
    { query: EVENTS_SUBSCRIPTION },
    {
      next: () => undefined,
      error: (error) => (failure ??= Array.isArray(error) ? error.map((e) => e.message).join('; ') : 'subscription error'),
      complete: () => undefined,
    },
  );
  try {
    const deadline = Date.now() + timeoutMs;
    while (captured === undefined) {
      if (failure) throw new Error(`subscription failed: ${failure}`);
      if (Date.now() > deadline) throw new Error(`no subscription event within ${timeoutMs / 1000} s`);
      await graphqlRequest(service.url, service.apiKey, QUEUE_BUILD, {
        input: { projectId, version: 'probe', platform: 'MAC', arch: 'ARM64' },
      });
      await delay(250);
    }
    return captured;
  } finally {
    unsubscribe();
    await client.dispose();
  }
}
