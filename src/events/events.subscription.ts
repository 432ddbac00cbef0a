import { GraphQLSchema } from 'graphql';
import { Args, Resolver, Root, Subscription } from 'type-graphql';
import { accountOf, GraphQLContext, liveOf } from '../graphql/context';
import { CommittedEvent } from './event-bus';
import { foldEventTypes } from './event-type';
import { EventObjectType } from './event.type';
import { EventFilterArgs } from './events.resolver';
import { matchesEventFilter } from './events.service';

@Resolver(() => EventObjectType)
export class EventsSubscriptionResolver {
  @Subscription(() => EventObjectType, {
    description:
      "The viewer's account's events as they commit: after the commit, in commit order, each once. `payload` is the webhook body.",
    subscribe: ({ args, context }: { args: EventFilterArgs; context: GraphQLContext }) => {
      const accountId = accountOf(context);
      const filter = { ...args, types: foldEventTypes(args.types) };
      return liveOf(context).listen('event', (event) => event.accountId === accountId && matchesEventFilter(filter, event));
    },
  })
  events(@Root() event: CommittedEvent, @Args() _filter: EventFilterArgs): CommittedEvent {
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
