import { DeliveryStatus } from './delivery/delivery-status';
import { EventType } from './events/event-type';

/** An event that has committed, with the deliveries committed alongside it. */
export interface CommittedEvent {
  id: string;
  accountId: string;
  type: EventType;
  projectId: string;
  createdAt: Date;
  /** The exact webhook body. */
  payload: string;
  deliveries: Array<{ id: string; webhookId: string }>;
}

/** A delivery whose state changed (an attempt ended, or it was created). */
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
 * The one publishing interface: the delivery engine and the GraphQL subscriptions consume it. This
 * in-process version calls listeners synchronously in publish order; a Redis-backed one can replace
 * it to span instances.
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
