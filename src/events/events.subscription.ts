import { GraphQLSchema } from 'graphql';
import { Args, ArgsType, Field, ID, Resolver, Root, Subscription } from 'type-graphql';
import { NotFound } from '../errors';
import { accountOf, GraphQLContext, liveOf } from '../graphql/context';
import { CommittedEvent } from '../event-bus';
import { foldEventTypes } from './event-type';
import { EventObjectType } from './event.type';
import { EventFilterArgs } from './events.resolver';
import { matchesEventFilter } from './events.service';

@ArgsType()
export class EventSubscriptionArgs extends EventFilterArgs {
  @Field(() => ID, {
    nullable: true,
    description:
      'Resume after this event (the last one the client processed): first every later event of the account that matches the filters, in commit order, then live, with no gap and no duplicate.',
  })
  after?: string | null;
}

@Resolver(() => EventObjectType)
export class EventsSubscriptionResolver {
  @Subscription(() => EventObjectType, {
    description:
      "The viewer's account's events as they commit: after the commit, in commit order, each once. `payload` is the webhook body. With `after`, missed events first.",
    subscribe: async ({ args, context }: { args: EventSubscriptionArgs; context: GraphQLContext }) => {
      const accountId = accountOf(context);
      const filter = { ...args, types: foldEventTypes(args.types) };
      const accept = (event: CommittedEvent) => event.accountId === accountId && matchesEventFilter(filter, event);
      const live = liveOf(context);
      const events = context.services.events;
      const after = args.after ? await events.positionOf(accountId, args.after) : undefined;
      if (after === null) throw new NotFound('Event');
      await live.caughtUp();
      if (after === undefined) return live.listen('event', accept);
      return live.listenEventsAfter(accept, (upTo) => events.committedBetween(accountId, after, upTo, filter));
    },
  })
  events(@Root() event: CommittedEvent, @Args() _filter: EventSubscriptionArgs): CommittedEvent {
    return event;
  }
}

/**
 * Lets `events` resolve to its event as is. type-graphql resolves any field with arguments through
 * an async argument validation (even with validation off), which would put a promise between every
 * event and every live subscriber; the method above only declares the field, its arguments and its
 * description. Call once on the built schema.
 */
export function resolveEventsSynchronously(schema: GraphQLSchema): void {
  const events = schema.getSubscriptionType()?.getFields().events;
  if (events) events.resolve = (event: CommittedEvent) => event;
}
