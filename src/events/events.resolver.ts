import { GraphQLResolveInfo } from 'graphql';
import { JSONObjectResolver } from 'graphql-scalars';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { EventType } from '../graphql/enums';
import { EventBody } from './event-payload';
import { Event } from './event.entity';
import { EventConnection, EventDataType, EventObjectType } from './event.type';

/** The filters shared by the `events` query and the `events` subscription. */
@ArgsType()
export class EventFilterArgs {
  @Field(() => [EventType], { nullable: true, description: 'Only these types; all when null or empty.' })
  types?: EventType[] | null;

  @Field(() => ID, { nullable: true, description: 'Only events about this project.' })
  projectId?: string | null;
}

/**
 * What the `Event` type resolves from: a stored `Event`, or a just-committed event on its way to live
 * subscribers (which needs no database read).
 */
export type EventSource = Pick<Event, 'id' | 'type' | 'createdAt' | 'payload'>;

/** The stored body parsed once per event object, shared by `data`, `payload` and every subscriber. */
const parsed = new WeakMap<EventSource, EventBody>();
function bodyOf(event: EventSource): EventBody {
  let body = parsed.get(event);
  if (!body) {
    body = JSON.parse(event.payload) as EventBody;
    parsed.set(event, body);
  }
  return body;
}

@Resolver(() => EventObjectType)
export class EventsResolver {
  @Query(() => EventConnection)
  events(
    @Args() page: PageArgs,
    @Args() filter: EventFilterArgs,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Page<Event>> {
    return ctx.services.events.list(accountOf(ctx), { ...page, ...filter }, selectedNodeFields(info));
  }

  @Query(() => EventObjectType, { nullable: true })
  event(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Event | null> {
    return ctx.services.events.get(accountOf(ctx), id);
  }

  @FieldResolver(() => EventDataType)
  data(@Root() event: EventSource): EventBody['data'] {
    return bodyOf(event).data;
  }

  @FieldResolver(() => Boolean, { description: 'True for a sample sent by testWebhook; samples are not listed in `events`.' })
  test(@Root() event: Event): boolean {
    return event.test === true;
  }

  @FieldResolver(() => JSONObjectResolver, { description: 'The exact webhook body, parsed.' })
  payload(@Root() event: EventSource): EventBody {
    return bodyOf(event);
  }
}
