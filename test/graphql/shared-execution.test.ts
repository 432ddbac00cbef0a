import { ExecutionResult, GraphQLID, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString, parse } from 'graphql';
import { InProcessEventBus } from '../../src/event-bus';
import { DocumentCache } from '../../src/graphql/document-cache';
import { LiveIterator } from '../../src/graphql/live-iterator';
import { createSharedSubscribe, ResultSink, SharedStream } from '../../src/graphql/shared-execution';
import { waitFor } from '../helpers/wait-for';

/**
 * The shared `subscribe` against a small schema whose resolvers count their calls: one execution
 * per event and group of equal subscribers, and each subscriber still gets exactly its own result.
 */
interface Message {
  accountId: string;
  id: string;
  fail?: boolean;
  /** `later` resolves once this settles. */
  wait?: Promise<void>;
}

const calls = { title: 0, id: 0 };
/** Every context the `seen` field resolver was given. */
const seenContexts: unknown[] = [];
const BUFFER = 3;
let overflows = 0;

function makeSchema(bus: InProcessEventBus) {
  const Item = new GraphQLObjectType<Message>({
    name: 'Item',
    fields: {
      id: {
        type: new GraphQLNonNull(GraphQLID),
        resolve: (message) => {
          calls.id += 1;
          return message.id;
        },
      },
      title: {
        type: GraphQLString,
        args: { prefix: { type: GraphQLString } },
        resolve: (message, args: { prefix?: string }, context: { viewer: { accountId: string } | null }) => {
          calls.title += 1;
          if (message.fail) throw new Error(`no title for ${message.id}`);
          return `${args.prefix ?? ''}${message.id} for ${context.viewer?.accountId}`;
        },
      },
      seen: {
        type: GraphQLString,
        resolve: (message, _args, context) => {
          seenContexts.push(context);
          return message.id;
        },
      },
      later: {
        type: GraphQLString,
        resolve: async (message) => {
          await message.wait;
          return message.id;
        },
      },
    },
  });
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
    subscription: new GraphQLObjectType({
      name: 'Subscription',
      fields: {
        items: {
          type: Item,
          subscribe: () =>
            new LiveIterator<Message>((push) => bus.subscribe('event', (message) => push(message as unknown as Message)), {
              bufferSize: BUFFER,
              onOverflow: () => (overflows += 1),
              onEnd: () => {},
            }),
          resolve: (message: Message) => message,
        },
      },
    }),
  });
}

describe('shared subscription execution', () => {
  const bus = new InProcessEventBus();
  const schema = makeSchema(bus);
  const documents = new DocumentCache(10_000);
  const iterators: AsyncIterableIterator<ExecutionResult>[] = [];

  /** One subscriber: the document comes through the cache, as the WebSocket server parses it. */
  async function subscribe(
    subscribeFn: ReturnType<typeof createSharedSubscribe>,
    query: string,
    {
      accountId = 'acct-1',
      variables,
      operationName,
      contextValue = { viewer: accountId === null ? null : { accountId, apiKeyId: `key-of-${accountId}` } },
    }: { accountId?: string | null; variables?: Record<string, unknown>; operationName?: string; contextValue?: object } = {},
  ): Promise<AsyncIterableIterator<ExecutionResult>> {
    let document = documents.get(query);
    if (!document) {
      document = parse(query);
      documents.set(query, document);
    }
    const result = await subscribeFn({ schema, document, variableValues: variables, operationName, contextValue });
    if (!(Symbol.asyncIterator in result)) throw new Error(`not a stream: ${JSON.stringify(result)}`);
    iterators.push(result);
    return result;
  }

  const publish = (message: Message) => bus.publish('event', message as never);
  const nextOf = async (iterator: AsyncIterableIterator<ExecutionResult>) => (await iterator.next()).value as ExecutionResult;

  beforeEach(() => {
    calls.title = 0;
    calls.id = 0;
    seenContexts.length = 0;
    overflows = 0;
  });
  afterEach(async () => {
    await Promise.all(iterators.splice(0).map((iterator) => iterator.return?.()));
  });

  it('executes once per event for subscribers with the same document, variables and account', async () => {
    const subscribeFn = createSharedSubscribe();
    const query = 'subscription { items { id title } }';
    const a = await subscribe(subscribeFn, query);
    const b = await subscribe(subscribeFn, query);
    const c = await subscribe(subscribeFn, query);

    publish({ accountId: 'acct-1', id: 'e1' });
    const [ra, rb, rc] = await Promise.all([nextOf(a), nextOf(b), nextOf(c)]);
    expect(ra).toEqual({ data: { items: { id: 'e1', title: 'e1 for acct-1' } } });
    expect(rb).toBe(ra);
    expect(rc).toBe(ra);
    expect(calls).toEqual({ id: 1, title: 1 });

    publish({ accountId: 'acct-1', id: 'e2' });
    const next = await Promise.all([nextOf(a), nextOf(b), nextOf(c)]);
    expect(next.map((result) => result.data)).toEqual(Array(3).fill({ items: { id: 'e2', title: 'e2 for acct-1' } }));
    expect(calls).toEqual({ id: 2, title: 2 });
  });

  it('gives different selection sets, variables, operation names and accounts each their own execution', async () => {
    const subscribeFn = createSharedSubscribe();
    const withPrefix = 'subscription ($p: String) { items { title(prefix: $p) } }';
    const subscribers = {
      idOnly: await subscribe(subscribeFn, 'subscription { items { id } }'),
      prefixA: await subscribe(subscribeFn, withPrefix, { variables: { p: 'A:' } }),
      prefixB: await subscribe(subscribeFn, withPrefix, { variables: { p: 'B:' } }),
      otherAccount: await subscribe(subscribeFn, withPrefix, { accountId: 'acct-2', variables: { p: 'A:' } }),
      named: await subscribe(subscribeFn, 'subscription One { items { id } } subscription Two { items { title } }', {
        operationName: 'Two',
      }),
      noViewer: await subscribe(subscribeFn, 'subscription { items { id } }', { accountId: null }),
    };

    publish({ accountId: 'acct-1', id: 'e1' });
    expect(await nextOf(subscribers.idOnly)).toEqual({ data: { items: { id: 'e1' } } });
    expect(await nextOf(subscribers.prefixA)).toEqual({ data: { items: { title: 'A:e1 for acct-1' } } });
    expect(await nextOf(subscribers.prefixB)).toEqual({ data: { items: { title: 'B:e1 for acct-1' } } });
    expect(await nextOf(subscribers.otherAccount)).toEqual({ data: { items: { title: 'A:e1 for acct-2' } } });
    expect(await nextOf(subscribers.named)).toEqual({ data: { items: { title: 'e1 for acct-1' } } });
    expect(await nextOf(subscribers.noViewer)).toEqual({ data: { items: { id: 'e1' } } });
    // idOnly and noViewer (alone: no account to share by) resolve id; the other four each resolve title.
    expect(calls).toEqual({ id: 2, title: 4 });
  });

  it("executes a group in a context of its own: the account and the services, nothing of the first subscriber's connection", async () => {
    const subscribeFn = createSharedSubscribe();
    const query = 'subscription { items { seen } }';
    const services = { projects: 'the services' };
    const first = { viewer: { accountId: 'acct-1', apiKeyId: 'key-1' }, services, live: 'feed of connection 1', socket: 'socket 1' };
    const second = { viewer: { accountId: 'acct-1', apiKeyId: 'key-2' }, services, live: 'feed of connection 2', socket: 'socket 2' };
    const a = await subscribe(subscribeFn, query, { contextValue: first });
    const b = await subscribe(subscribeFn, query, { contextValue: second });

    publish({ accountId: 'acct-1', id: 'e1' });
    const [ra, rb] = await Promise.all([nextOf(a), nextOf(b)]);
    expect(ra).toEqual({ data: { items: { seen: 'e1' } } });
    expect(rb).toBe(ra);
    expect(seenContexts).toHaveLength(1);
    const [seen] = seenContexts;
    expect(seen).not.toBe(first);
    expect(seen).not.toBe(second);
    expect(seen).toStrictEqual({ viewer: { accountId: 'acct-1' }, services });
    expect((seen as typeof first).services).toBe(services);
  });

  it("shares a resolver error's result without ending anyone's stream", async () => {
    const subscribeFn = createSharedSubscribe();
    const query = 'subscription { items { id title } }';
    const a = await subscribe(subscribeFn, query);
    const b = await subscribe(subscribeFn, query);

    publish({ accountId: 'acct-1', id: 'bad', fail: true });
    publish({ accountId: 'acct-1', id: 'good' });
    const [failedA, failedB] = await Promise.all([nextOf(a), nextOf(b)]);
    expect(failedA.data).toEqual({ items: { id: 'bad', title: null } });
    expect(failedA.errors?.map((error) => error.message)).toEqual(['no title for bad']);
    expect(failedB).toBe(failedA);
    const [goodA, goodB] = await Promise.all([nextOf(a), nextOf(b)]);
    expect(goodA).toEqual({ data: { items: { id: 'good', title: 'good for acct-1' } } });
    expect(goodB).toBe(goodA);
    expect(calls.title).toBe(2);
  });

  it('keeps the others going when the subscriber whose event ran the shared execution unsubscribes, even while it waits', async () => {
    const subscribeFn = createSharedSubscribe();
    const query = 'subscription { items { id } }';
    const first = await subscribe(subscribeFn, query);
    const second = await subscribe(subscribeFn, query);

    publish({ accountId: 'acct-1', id: 'e1' });
    expect(await nextOf(first)).toEqual({ data: { items: { id: 'e1' } } });
    expect(await nextOf(second)).toEqual({ data: { items: { id: 'e1' } } });

    const waiting = first.next();
    await first.return?.();
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });

    publish({ accountId: 'acct-1', id: 'e2' });
    expect(await nextOf(second)).toEqual({ data: { items: { id: 'e2' } } });
    expect(await first.next()).toEqual({ value: undefined, done: true });
  });

  it('returns the source error result when the stream cannot start', async () => {
    const subscribeFn = createSharedSubscribe();
    const result = await subscribeFn({
      schema,
      document: parse('subscription ($p: Int!) { items { title(prefix: $p) } }'),
      contextValue: {},
    });
    expect(Symbol.asyncIterator in result).toBe(false);
    expect((result as ExecutionResult).errors?.[0].message).toMatch(/\$p/);
  });

  describe('piped to a sink', () => {
    /** A sink that records what it gets; `backedUp` makes it ask for a pause after each write. */
    function recordingSink() {
      const sink = {
        written: [] as unknown[],
        backedUp: false,
        ready: undefined as (() => void) | undefined,
        write(result: ExecutionResult, ready: () => void) {
          sink.written.push(result.data?.items);
          if (!sink.backedUp) return true;
          sink.ready = ready;
          return false;
        },
        /** The sink caught up: it takes writes again. */
        drain() {
          sink.backedUp = false;
          const ready = sink.ready;
          sink.ready = undefined;
          ready?.();
        },
      };
      return sink satisfies ResultSink;
    }

    async function piped(query: string, sink: ResultSink) {
      const stream = await subscribe(createSharedSubscribe(), query);
      expect(stream).toBeInstanceOf(SharedStream);
      (stream as SharedStream).pipeTo(sink);
      return stream;
    }

    it("writes each result on the publisher's stack, in publish order", async () => {
      const sink = recordingSink();
      await piped('subscription { items { id } }', sink);
      publish({ accountId: 'acct-1', id: 'e1' });
      publish({ accountId: 'acct-1', id: 'e2' });
      expect(sink.written).toEqual([{ id: 'e1' }, { id: 'e2' }]);
    });

    it('holds events in the bounded queue while the sink is backed up, then writes them in order', async () => {
      const sink = recordingSink();
      const stream = await piped('subscription { items { id } }', sink);
      sink.backedUp = true;
      publish({ accountId: 'acct-1', id: 'e1' });
      publish({ accountId: 'acct-1', id: 'e2' });
      publish({ accountId: 'acct-1', id: 'e3' });
      expect(sink.written).toEqual([{ id: 'e1' }]);
      sink.drain();
      publish({ accountId: 'acct-1', id: 'e4' });
      expect(sink.written.map((item) => (item as { id: string }).id)).toEqual(['e1', 'e2', 'e3', 'e4']);

      // Backed up for good: the queue fills, and one more ends the stream.
      sink.backedUp = true;
      for (let n = 5; n <= 5 + BUFFER + 1; n += 1) publish({ accountId: 'acct-1', id: `e${n}` });
      expect(overflows).toBe(1);
      await expect(stream.next()).resolves.toEqual({ value: undefined, done: true });
      sink.drain();
      expect(sink.written).toHaveLength(5);
    });

    it('keeps publish order when results take a while', async () => {
      const sink = recordingSink();
      const stream = await piped('subscription { items { id later } }', sink);
      let release!: () => void;
      const wait = new Promise<void>((resolve) => {
        release = resolve;
      });
      publish({ accountId: 'acct-1', id: 'slow', wait });
      publish({ accountId: 'acct-1', id: 'quick' });
      await new Promise((resolve) => setImmediate(resolve));
      expect(sink.written).toEqual([]);
      release();
      await waitFor(() => sink.written.length === 2);
      expect(sink.written).toEqual([
        { id: 'slow', later: 'slow' },
        { id: 'quick', later: 'quick' },
      ]);
      await stream.return?.();
    });

    it('ends on return: the stream is done and nothing more is written', async () => {
      const sink = recordingSink();
      const stream = await piped('subscription { items { id } }', sink);
      const done = stream.next();
      publish({ accountId: 'acct-1', id: 'e1' });
      await stream.return?.();
      await expect(done).resolves.toEqual({ value: undefined, done: true });
      publish({ accountId: 'acct-1', id: 'e2' });
      expect(sink.written).toEqual([{ id: 'e1' }]);
    });

    it('fails the stream when an execution fails, and writes nothing after', async () => {
      const source = new LiveIterator<unknown>((push) => bus.subscribe('event', push), {
        bufferSize: BUFFER,
        onOverflow: () => {},
        onEnd: () => {},
      });
      const stream = new SharedStream(source, (event) => {
        const { id } = event as Message;
        return id === 'broken' ? Promise.reject(new Error('execution failed')) : { data: { items: { id } } };
      });
      const sink = recordingSink();
      stream.pipeTo(sink);
      const done = stream.next();
      publish({ accountId: 'acct-1', id: 'e1' });
      publish({ accountId: 'acct-1', id: 'broken' });
      publish({ accountId: 'acct-1', id: 'e3' });
      await expect(done).rejects.toThrow('execution failed');
      publish({ accountId: 'acct-1', id: 'e4' });
      expect(sink.written).toEqual([{ id: 'e1' }]);
      expect(source.isEnded).toBe(true);
    });

    it('fails the stream, not the publisher, when the sink throws', async () => {
      const stream = await piped('subscription { items { id } }', {
        write: (result) => {
          if (result.data?.items) throw new Error('sink broke');
          return true;
        },
      });
      const done = stream.next();
      expect(() => publish({ accountId: 'acct-1', id: 'e1' })).not.toThrow();
      await expect(done).rejects.toThrow('sink broke');
    });
  });
});
