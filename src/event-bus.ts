import { DeliveryStatus } from './delivery/delivery-status';
import { EventType } from './events/event-type';

/** An event that has committed, as the feed reads it back. */
export interface CommittedEvent {
  id: string;
  accountId: string;
  type: EventType;
  projectId: string;
  createdAt: Date;
  /** The exact webhook body. */
  payload: string;
  /** Its place in commit order (see `FeedReader`). */
  position: number;
}

/**
 * A delivery whose state changed: an attempt's outcome was stored, `redeliver` or `testWebhook`
 * created it, or deleting or disabling its webhook ended it. The deliveries an event creates are
 * not announced when created; their first outcome is.
 */
export interface DeliveryUpdate {
  id: string;
  accountId: string;
  webhookId: string;
  eventId: string;
  status: DeliveryStatus;
}

/** A webhook's stored settings changed (updated, secret rotated, disabled, deleted): caches drop it. */
export interface WebhookChange {
  id: string;
  accountId: string;
}

/** An API key that was revoked: live connections opened with it close. */
export interface ApiKeyRevoked {
  apiKeyId: string;
  accountId: string;
}

export interface BusTopics {
  event: CommittedEvent;
  delivery: DeliveryUpdate;
  webhook: WebhookChange;
  apiKeyRevoked: ApiKeyRevoked;
}

export type Unsubscribe = () => void;

/**
 * This process's bus: the `FeedReader` publishes on it what any process committed, in commit order;
 * GraphQL subscriptions and caches listen. Writes never publish here directly (they append to the
 * feed, see `ChangeLog`), so every process hears the same messages in the same order. Listeners are
 * called synchronously in publish order.
 */
export interface EventBus {
  publish<K extends keyof BusTopics>(topic: K, message: BusTopics[K]): void;
  subscribe<K extends keyof BusTopics>(topic: K, listener: (message: BusTopics[K]) => void): Unsubscribe;
}

export class InProcessEventBus implements EventBus {
  private readonly listeners: { [K in keyof BusTopics]: Set<(message: BusTopics[K]) => void> } = {
    event: new Set(),
    delivery: new Set(),
    webhook: new Set(),
    apiKeyRevoked: new Set(),
  };

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  publish<K extends keyof BusTopics>(topic: K, message: BusTopics[K]): void {
    for (const listener of this.listeners[topic]) {
      try {
        listener(message);
      } catch (error) {
        this.onListenerError(error);
      }
    }
  }

  subscribe<K extends keyof BusTopics>(topic: K, listener: (message: BusTopics[K]) => void): Unsubscribe {
    const set = this.listeners[topic] as Set<(message: BusTopics[K]) => void>;
    set.add(listener);
    return () => set.delete(listener);
  }
}
