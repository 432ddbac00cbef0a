import { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Info, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Page } from '../db/pagination';
import { Event } from '../events/event.entity';
import { EventObjectType } from '../events/event.type';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { loadById } from '../graphql/load-by-id';
import { DeliveryStatus, EventType } from '../graphql/enums';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookType } from '../webhooks/webhook.type';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { Delivery } from './delivery.entity';
import { DeliveryAttemptType, DeliveryConnection, DeliveryType, RecoverFailedDeliveriesPayload } from './delivery.type';

@ArgsType()
class DeliveriesArgs extends PageArgs {
  @Field(() => ID, { nullable: true })
  webhookId?: string | null;

  @Field(() => ID, { nullable: true })
  eventId?: string | null;

  @Field(() => DeliveryStatus, { nullable: true })
  status?: DeliveryStatus | null;
}

@Resolver(() => DeliveryType)
export class DeliveriesResolver {
  @Query(() => DeliveryConnection)
  deliveries(@Args() args: DeliveriesArgs, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Page<Delivery>> {
    return ctx.services.deliveries.list(accountOf(ctx), args, selectedNodeFields(info));
  }

  @Query(() => DeliveryType, { nullable: true })
  delivery(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Delivery | null> {
    return ctx.services.deliveries.get(accountOf(ctx), id);
  }

  @Mutation(() => DeliveryType, {
    description:
      "Sends a sample event of `type` (default: the webhook's first subscribed type) to this webhook only. The sample is not listed in `events` and reaches no subscriber.",
  })
  testWebhook(
    @Arg('id', () => ID) id: string,
    @Arg('type', () => EventType, { nullable: true }) type: EventType | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Delivery> {
    return ctx.services.deliveries.sendTest(accountOf(ctx), id, type);
  }

  @Mutation(() => DeliveryType, {
    description: 'A new delivery (new id) of the same event to the same webhook, with the byte-identical body, sent at once.',
  })
  redeliver(@Arg('deliveryId', () => ID) deliveryId: string, @Ctx() ctx: GraphQLContext): Promise<Delivery> {
    return ctx.services.deliveries.redeliver(accountOf(ctx), deliveryId);
  }

  @Mutation(() => RecoverFailedDeliveriesPayload, {
    description:
      'After an outage: a new delivery (as redeliver makes) of every event whose latest delivery to this webhook ended FAILED and was created at or after `since`, one per event. Events with a PENDING delivery to the webhook, or a later one, are left alone, so a second call right after makes none. The webhook must be active.',
  })
  async recoverFailedDeliveries(
    @Arg('webhookId', () => ID) webhookId: string,
    @Arg('since', () => Date) since: Date,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RecoverFailedDeliveriesPayload> {
    return { count: await ctx.services.deliveries.recoverFailed(accountOf(ctx), webhookId, since) };
  }

  @FieldResolver(() => WebhookType, { nullable: true, description: 'Null once the webhook has been deleted.' })
  async webhook(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<Webhook | null> {
    const { accountId, webhookId } = delivery;
    return (await loadById(ctx, `webhook:${accountId}`, webhookId, (ids) => ctx.services.webhooks.getMany(accountId, ids))) ?? null;
  }

  @FieldResolver(() => EventObjectType)
  async event(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<Event> {
    const { accountId, eventId } = delivery;
    return (await loadById(ctx, `event:${accountId}`, eventId, (ids) => ctx.services.events.getMany(accountId, ids)))!;
  }

  @FieldResolver(() => [DeliveryAttemptType])
  async attempts(@Root() delivery: Delivery, @Ctx() ctx: GraphQLContext): Promise<DeliveryAttempt[]> {
    return (await loadById(ctx, 'attempts', delivery.id, (ids) => ctx.services.deliveries.attemptsOfMany(ids))) ?? [];
  }
}
