import { BusTopics, EventBus, Unsubscribe } from '../event-bus';

export interface LiveIteratorOptions {
  /** Messages that may wait for the reader; one more ends the iterator and calls `onOverflow`. */
  bufferSize: number;
  /** The reader fell `bufferSize` messages behind: the iterator has ended and dropped what it held. */
  onOverflow(): void;
  /** Called once when the iterator ends, whatever the reason. */
  onEnd(): void;
}

/**
 * Bridges a push source (the synchronous event bus) to the pull side graphql-js reads from. Messages
 * are queued in arrival order, so a subscriber sees them in publish (= commit) order, each once. The
 * queue is bounded: a reader that falls too far behind ends the iterator instead of growing memory,
 * and the publisher never waits for any reader.
 *
 * A reader that can take messages as they come may `consume` them instead: each is then handed over
 * on the publisher's stack, with no queue and no promise, until the reader `pause`s; while paused,
 * messages queue (bounded the same way) and `resume` hands them over in order.
 */
export class LiveIterator<T> implements AsyncIterableIterator<T> {
  private readonly queue: T[] = [];
  private waiting: ((result: IteratorResult<T>) => void) | null = null;
  private ended = false;
  private consumer: ((message: T) => void) | null = null;
  private paused = false;
  private readonly unsubscribe: Unsubscribe;

  constructor(
    listen: (push: (message: T) => void) => Unsubscribe,
    private readonly options: LiveIteratorOptions,
  ) {
    this.unsubscribe = listen((message) => this.push(message));
  }

  /** With a consumer, resolves only once the iterator has ended: the messages go to the consumer. */
  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0 && !this.consumer) return Promise.resolve({ value: this.queue.shift() as T, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Hands every message to `consumer` from now on, starting with any already queued. */
  consume(consumer: (message: T) => void): void {
    this.consumer = consumer;
    this.resume();
  }

  /** Queues messages instead of handing them to the consumer, until `resume`. */
  pause(): void {
    this.paused = true;
  }

  /** Hands the queued messages to the consumer in order (until it pauses again), then each as it comes. */
  resume(): void {
    this.paused = false;
    while (this.consumer && !this.paused && !this.ended && this.queue.length > 0) this.consumer(this.queue.shift() as T);
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Stops listening and drops whatever was queued; idempotent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.unsubscribe();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ value: undefined, done: true });
    this.options.onEnd();
  }

  private push(message: T): void {
    if (this.ended) return;
    if (this.consumer && !this.paused) {
      this.consumer(message);
    } else if (this.waiting && !this.consumer) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting({ value: message, done: false });
    } else if (this.queue.length < this.options.bufferSize) {
      this.queue.push(message);
    } else {
      this.end();
      this.options.onOverflow();
    }
  }
}

/** The live side of one WebSocket connection: what the subscription resolvers listen through. */
export interface LiveFeed {
  /** An iterator over the bus messages of `topic` that `accept` keeps, from now on. */
  listen<K extends keyof BusTopics>(topic: K, accept: (message: BusTopics[K]) => boolean): AsyncIterableIterator<BusTopics[K]>;
}

export interface ConnectionFeedOptions {
  bus: EventBus;
  bufferSize: number;
  /** One of the connection's subscriptions overflowed its buffer. */
  onOverflow(): void;
  /** Active subscriptions went up (+1) or down (-1). */
  onActiveChange(delta: 1 | -1): void;
}

/** A `LiveFeed` that remembers its iterators, so closing the connection ends every one of them. */
export class ConnectionFeed implements LiveFeed {
  private readonly open = new Set<{ end(): void }>();

  constructor(private readonly options: ConnectionFeedOptions) {}

  listen<K extends keyof BusTopics>(topic: K, accept: (message: BusTopics[K]) => boolean): AsyncIterableIterator<BusTopics[K]> {
    const { bus, bufferSize, onOverflow, onActiveChange } = this.options;
    const iterator: LiveIterator<BusTopics[K]> = new LiveIterator<BusTopics[K]>(
      (push) =>
        bus.subscribe(topic, (message) => {
          if (accept(message)) push(message);
        }),
      {
        bufferSize,
        onOverflow,
        onEnd: () => {
          this.open.delete(iterator);
          onActiveChange(-1);
        },
      },
    );
    this.open.add(iterator);
    onActiveChange(1);
    return iterator;
  }

  /** Ends every iterator still open (the connection closed). */
  close(): void {
    for (const iterator of this.open) iterator.end();
  }
}
