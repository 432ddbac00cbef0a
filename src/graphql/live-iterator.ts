import { BusTopics, CommittedEvent, EventBus, Unsubscribe } from '../event-bus';

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
  private roomWaiters: Array<{ below: number; resolve: () => void }> = [];
  private readonly unsubscribe: Unsubscribe;

  constructor(
    listen: (push: (message: T) => void) => Unsubscribe,
    private readonly options: LiveIteratorOptions,
  ) {
    this.unsubscribe = listen((message) => this.push(message));
  }

  /** With a consumer, resolves only once the iterator has ended: the messages go to the consumer. */
  next(): Promise<IteratorResult<T>> {
    if (this.queue.length > 0 && !this.consumer) {
      const value = this.queue.shift() as T;
      this.wakeRoomWaiters();
      return Promise.resolve({ value, done: false });
    }
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
    this.wakeRoomWaiters();
  }

  /** Resolves once fewer than `below` messages wait for the reader (at once if so, or once ended). */
  room(below: number): Promise<void> {
    if (this.ended || this.queue.length < below) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push({ below, resolve }));
  }

  /** Hands `message` to the reader as if it had been published (a replayed one). */
  offer(message: T): void {
    this.push(message);
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
    this.wakeRoomWaiters();
    this.options.onEnd();
  }

  private wakeRoomWaiters(): void {
    if (this.roomWaiters.length === 0) return;
    const waiting = this.roomWaiters;
    this.roomWaiters = [];
    for (const waiter of waiting) {
      if (this.ended || this.queue.length < waiter.below) waiter.resolve();
      else this.roomWaiters.push(waiter);
    }
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

/**
 * Reads the events a resumed subscription missed: those committed after its resume point, matching
 * its filters, at or below `upTo`, in commit order, a page at a time.
 */
export type EventReplay = (upTo: number) => AsyncIterable<CommittedEvent[]>;

/** The live side of one WebSocket connection: what the subscription resolvers listen through. */
export interface LiveFeed {
  /**
   * Resolves once everything committed before the call has reached the bus: a subscription that
   * waits for it before listening starts exactly at "committed now", not a feed read earlier.
   */
  caughtUp(): Promise<void>;
  /** An iterator over the bus messages of `topic` that `accept` keeps, from now on. */
  listen<K extends keyof BusTopics>(topic: K, accept: (message: BusTopics[K]) => boolean): AsyncIterableIterator<BusTopics[K]>;
  /**
   * The events `replay` reads, then the live events `accept` keeps: no gap and no duplicate between
   * the two, whatever commits during the switch.
   */
  listenEventsAfter(accept: (event: CommittedEvent) => boolean, replay: EventReplay): AsyncIterableIterator<CommittedEvent>;
}

export interface ConnectionFeedOptions {
  bus: EventBus;
  /** The position of the last event published on `bus`. */
  eventPosition(): number;
  /** Publishes on `bus` everything committed so far (see `FeedReader.catchUp`). */
  catchUp(): Promise<void>;
  bufferSize: number;
  /** One of the connection's subscriptions overflowed its buffer. */
  onOverflow(): void;
  /** Active subscriptions went up (+1) or down (-1). */
  onActiveChange(delta: 1 | -1): void;
  /**
   * Runs one read of a replay when it is the account's turn (`AccountGate`): a long replay takes
   * turns with the account's other operations instead of running beside all of them.
   */
  takeTurn?<T>(read: () => Promise<T>): Promise<T>;
}

/** A `LiveFeed` that remembers its iterators, so closing the connection ends every one of them. */
export class ConnectionFeed implements LiveFeed {
  private readonly open = new Set<{ end(): void }>();

  constructor(private readonly options: ConnectionFeedOptions) {}

  caughtUp(): Promise<void> {
    return this.options.catchUp();
  }

  listen<K extends keyof BusTopics>(topic: K, accept: (message: BusTopics[K]) => boolean): AsyncIterableIterator<BusTopics[K]> {
    return this.iterate<K>((push) =>
      this.options.bus.subscribe(topic, (message) => {
        if (accept(message)) push(message);
      }),
    );
  }

  private iterate<K extends keyof BusTopics>(listen: (push: (message: BusTopics[K]) => void) => Unsubscribe): LiveIterator<BusTopics[K]> {
    const { bufferSize, onOverflow, onActiveChange } = this.options;
    const iterator: LiveIterator<BusTopics[K]> = new LiveIterator<BusTopics[K]>(listen, {
      bufferSize,
      onOverflow,
      onEnd: () => {
        this.open.delete(iterator);
        onActiveChange(-1);
      },
    });
    this.open.add(iterator);
    onActiveChange(1);
    return iterator;
  }

  listenEventsAfter(accept: (event: CommittedEvent) => boolean, replay: EventReplay): AsyncIterableIterator<CommittedEvent> {
    const { bufferSize, onOverflow } = this.options;
    // Live events wait here while the replay runs; the bus publishes in position order, so all of
    // them come after `upTo`, which is read in the same turn as the subscription starts.
    let held: CommittedEvent[] | null = [];
    let upTo = 0;
    const iterator = this.iterate<'event'>((push) => {
      upTo = this.options.eventPosition();
      return this.options.bus.subscribe('event', (event) => {
        if (!accept(event)) return;
        if (held === null) push(event);
        else if (held.length < bufferSize) held.push(event);
        else {
          held = null;
          iterator.end();
          onOverflow();
        }
      });
    });
    // Replayed events wait for the reader to keep up (at most half a buffer queued), so a long
    // replay never overflows; live ones are bounded by the buffer as ever.
    const room = Math.max(1, Math.floor(bufferSize / 2));
    const takeTurn = this.options.takeTurn ?? (<T>(read: () => Promise<T>) => read());
    void (async () => {
      const pages = replay(upTo)[Symbol.asyncIterator]();
      for (;;) {
        const page = await takeTurn(() => pages.next());
        if (page.done) break;
        for (const event of page.value) {
          await iterator.room(room);
          if (iterator.isEnded) {
            await pages.return?.();
            return;
          }
          iterator.offer(event);
        }
      }
      const live = held ?? [];
      held = null;
      for (const event of live) iterator.offer(event);
    })().catch(() => iterator.end());
    return iterator;
  }

  /** Ends every iterator still open (the connection closed). */
  close(): void {
    for (const iterator of this.open) iterator.end();
  }
}
