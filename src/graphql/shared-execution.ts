import { createSourceEventStream, DocumentNode, execute, ExecutionArgs, ExecutionResult } from 'graphql';
import { GraphQLContext } from './context';

type PromiseOrValue<T> = Promise<T> | T;

/**
 * graphql-js's `subscribe`, except that each source event's selection set runs once per group of
 * subscribers that would get the same result, instead of once per subscriber.
 *
 * A subscription's result depends only on the source event, the document, the operation name, the
 * variables and the viewer's account: the field resolvers under a subscription read their root, their
 * arguments, the services and the account, never the connection or the API key. Subscribers that agree
 * on all of these share one execution and one result object (which nobody mutates). The results hang
 * off the event object in a WeakMap, so they go when the last subscriber has taken the event; the bus
 * hands the same message object to every listener, and the live iterator and type-graphql's `subscribe:`
 * pass it on as is.
 *
 * Documents are compared by identity (parse them through a cache so that equal texts share one
 * `DocumentNode`). Without a viewer the subscriber executes alone.
 */
export function createSharedSubscribe(): (args: ExecutionArgs) => Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
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
    if (typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
    let byKey = results.get(event);
    if (!byKey) {
      byKey = new Map();
      results.set(event, byKey);
    }
    let result = byKey.get(key);
    if (!result) {
      result = execute({ ...args, rootValue: event });
      byKey.set(key, result);
    }
    return result;
  };

  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const accountId = (args.contextValue as GraphQLContext | undefined)?.viewer?.accountId;
    if (accountId === undefined) return mapIterator(stream, (event) => execute({ ...args, rootValue: event }));
    const key = JSON.stringify([documentId(args.document), args.operationName ?? null, args.variableValues ?? null, accountId]);
    return mapIterator(stream, (event) => executeShared(args, key, event));
  };
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
