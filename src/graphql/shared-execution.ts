import { createSourceEventStream, DocumentNode, execute, ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLContext, Services } from './context';
import { LiveIterator } from './live-iterator';

type PromiseOrValue<T> = Promise<T> | T;

/**
 * graphql-js's `subscribe`, except that each source event's selection set runs once per group of
 * subscribers that would get the same result, instead of once per subscriber.
 *
 * A subscription's result depends only on the source event, the document, the operation name, the
 * variables and the viewer's account: the field resolvers under a subscription read their root, their
 * arguments, the services and the account, never the connection or the API key. Subscribers that agree
 * on all of these share one execution and one result object (which nobody mutates). That execution
 * runs in a context made for the group (`groupContext`), not in the context of whichever subscriber
 * took the event first, so no connection's state (its live feed, its API key) reaches another's.
 * The results hang off the event object in a WeakMap, so they go when the last subscriber has taken
 * the event; the bus hands the same message object to every listener, and the live iterator and
 * type-graphql's `subscribe:` pass it on as is.
 *
 * Documents are compared by identity (parse them through a cache so that equal texts share one
 * `DocumentNode`). Without a viewer the subscriber executes alone. Over a `LiveIterator` (what our
 * subscription resolvers return) the stream is a `SharedStream`, which can be piped to a sink.
 * Each event's execution goes through `executeEvent` (the app's runs it in a turn of the account and
 * within an operation budget: `budgetedExecute`).
 */
export function createSharedSubscribe(
  executeEvent: (args: ExecutionArgs) => PromiseOrValue<ExecutionResult> = execute,
): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const documentIds = new WeakMap<DocumentNode, number>();
  let nextDocumentId = 0;
  const documentId = (document: DocumentNode): number => {
    let id = documentIds.get(document);
    if (id === undefined) {
      id = nextDocumentId++;
      documentIds.set(document, id);
    }
    return id;
  };

  const results = new WeakMap<object, Map<string, PromiseOrValue<ExecutionResult>>>();
  const executeShared = (args: ExecutionArgs, key: string, event: unknown): PromiseOrValue<ExecutionResult> => {
    if (typeof event !== 'object' || event === null) return executeEvent({ ...args, rootValue: event });
    let byKey = results.get(event);
    if (!byKey) {
      byKey = new Map();
      results.set(event, byKey);
    }
    let result = byKey.get(key);
    if (!result) {
      result = executeEvent({ ...args, rootValue: event });
      byKey.set(key, result);
    }
    return result;
  };

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const context = args.contextValue as GraphQLContext | undefined;
    let run = (event: unknown): PromiseOrValue<ExecutionResult> => executeEvent({ ...args, rootValue: event });
    if (context?.viewer) {
      const { accountId } = context.viewer;
      const key = JSON.stringify([documentId(args.document), args.operationName ?? null, args.variableValues ?? null, accountId]);
      const shared = { ...args, contextValue: groupContext(accountId, context.services) };
      run = (event) => executeShared(shared, key, event);
    }
    return stream instanceof LiveIterator ? new SharedStream(stream, run) : mapIterator(stream, run);
  };
}

/** What every subscriber of a group has in common: the account and the services, nothing of its connection. */
function groupContext(accountId: string, services: Services): GraphQLContext {
  return { viewer: { accountId }, services };
}

/** Where `SharedStream.pipeTo` writes results. */
export interface ResultSink {
  /**
   * Sends one result. Returns true when the sink can take the next one at once; false when it is
   * backed up, and then calls `ready` once it can.
   */
  write(result: ExecutionResult, ready: () => void): boolean;
}

/**
 * A subscription's results over a `LiveIterator` of source events. Read it as an async iterator (what
 * graphql-ws does by default), or `pipeTo` a sink: then each event's result is written on the
 * publisher's stack, with no promise per subscriber and event, as long as the result is ready at once
 * and the sink keeps up. An execution that returns a promise, or a sink that backs up, pauses the
 * source (whose bounded queue keeps the events in order) until it is done. Either way each subscriber
 * gets every event once, in publish order.
 */
export class SharedStream implements AsyncIterableIterator<ExecutionResult> {
  /** The pull side, made on first use: piped streams (one per live subscriber) never need it. */
  private mapped: AsyncIterableIterator<ExecutionResult> | undefined;
  private sink: ResultSink | undefined;
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly source: LiveIterator<unknown>,
    private readonly run: (event: unknown) => PromiseOrValue<ExecutionResult>,
  ) {}

  /** Piped, resolves once the stream has ended, and rejects if an execution failed (that ends it too). */
  next(): Promise<IteratorResult<ExecutionResult>> {
    if (!this.sink) return (this.mapped ??= mapIterator(this.source, this.run)).next();
    // A consumed source's `next` settles only when it ends.
    return this.source.next().then(() => {
      if (this.failure) throw this.failure.error;
      return { value: undefined, done: true };
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    if (this.mapped) return this.mapped.return!();
    this.source.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    if (this.mapped) return this.mapped.throw!(error);
    this.source.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Writes every result to `sink` from now on instead of yielding it. */
  pipeTo(sink: ResultSink): void {
    this.sink = sink;
    this.source.consume(this.deliver);
  }

  private readonly deliver = (event: unknown): void => {
    try {
      const result = this.run(event);
      if (!isPromiseLike(result)) {
        if (!this.write(result)) this.source.pause();
        return;
      }
      this.source.pause();
      result.then(this.writeLater, this.fail);
    } catch (error) {
      this.fail(error);
    }
  };

  private readonly writeLater = (result: ExecutionResult): void => {
    try {
      if (this.write(result)) this.source.resume();
    } catch (error) {
      this.fail(error);
    }
  };

  private readonly resume = (): void => this.source.resume();

  /** True when the next result may follow at once. */
  private write(result: ExecutionResult): boolean {
    return this.source.isEnded || this.sink!.write(result, this.resume);
  }

  private readonly fail = (error: unknown): void => {
    this.failure ??= { error };
    this.source.end();
  };
}

function isPromiseLike<T>(value: PromiseOrValue<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof Object(value)[Symbol.asyncIterator] === 'function';
}

/**
 * The source iterator with each value mapped; `return()` reaches the source at once, even while a
 * `next()` waits on it (an async generator would queue it behind that wait, which may never end).
 */
function mapIterator<T, R>(source: AsyncIterable<T>, map: (value: T) => PromiseOrValue<R>): AsyncIterableIterator<R> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    try {
      await iterator.return?.();
    } catch {
      // The mapping's error is the one to report.
    }
  };
  const mapped = async (result: IteratorResult<T>): Promise<IteratorResult<R>> => {
    if (result.done) return { value: undefined, done: true };
    try {
      return { value: await map(result.value), done: false };
    } catch (error) {
      await close();
      throw error;
    }
  };
  return {
    next: async () => mapped(await iterator.next()),
    return: async () => {
      await close();
      return { value: undefined, done: true };
    },
    throw: async (error: unknown) => {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
