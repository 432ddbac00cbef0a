import { JSONObjectResolver } from 'graphql-scalars';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Query, Resolver, Root } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { EventType } from '../graphql/enums';
import { EventBody } from './event-payload';
import { Event } from './event.entity';
import { EventConnection, EventDataType, EventObjectType } from './event.type';

@ArgsType()
class EventsArgs extends PageArgs {
  @Field(() => [EventType], { nullable: true })
  types?: EventType[] | null;

  @Field(() => ID, { nullable: true })
  projectId?: string | null;
}

/** The stored body parsed once per event object, shared by `data` and `payload`. */
const parsed = new WeakMap<Event, EventBody>();
function bodyOf(event: Event): EventBody {
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
  events(@Args() args: EventsArgs, @Ctx() ctx: GraphQLContext): Promise<Page<Event>> {
    return ctx.services.events.list(accountOf(ctx), args);
  }

  @Query(() => EventObjectType, { nullable: true })
  event(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Event | null> {
    return ctx.services.events.get(accountOf(ctx), id);
  }

  @FieldResolver(() => EventDataType)
  data(@Root() event: Event): EventBody['data'] {
    return bodyOf(event).data;
  }

  @FieldResolver(() => Boolean, { description: 'True for a sample sent by testWebhook; samples are not listed in `events`.' })
  test(@Root() event: Event): boolean {
    return event.test === true;
  }

  @FieldResolver(() => JSONObjectResolver, { description: 'The exact webhook body, parsed.' })
  payload(@Root() event: Event): EventBody {
    return bodyOf(event);
  }
}
