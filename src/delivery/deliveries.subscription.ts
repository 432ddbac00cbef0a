import { Args, ArgsType, Ctx, Field, ID, Resolver, Root, Subscription } from 'type-graphql';
import { NotFound } from '../errors';
import { DeliveryUpdate } from '../event-bus';
import { accountOf, GraphQLContext, liveOf } from '../graphql/context';
import { DeliveriesService } from './deliveries.service';
import { Delivery } from './delivery.entity';
import { DeliveryType } from './delivery.type';

@ArgsType()
class DeliveryUpdatedArgs {
  @Field(() => ID, { nullable: true, description: 'Only deliveries to this webhook.' })
  webhookId?: string | null;
}

/** One read per update, shared by every subscriber that receives it. */
const readOnce = new WeakMap<DeliveryUpdate, Promise<Delivery | null>>();
function deliveryOf(update: DeliveryUpdate, deliveries: DeliveriesService): Promise<Delivery | null> {
  let read = readOnce.get(update);
  if (!read) {
    read = deliveries.get(update.accountId, update.id);
    readOnce.set(update, read);
  }
  return read;
}

@Resolver(() => DeliveryType)
export class DeliveriesSubscriptionResolver {
  @Subscription(() => DeliveryType, {
    description: "The viewer's account's deliveries as they change: every attempt's outcome, live.",
    subscribe: async ({ args, context }: { args: DeliveryUpdatedArgs; context: GraphQLContext }) => {
      const accountId = accountOf(context);
      await liveOf(context).caughtUp();
      return liveOf(context).listen(
        'delivery',
        (update) => update.accountId === accountId && (!args.webhookId || update.webhookId === args.webhookId),
      );
    },
  })
  async deliveryUpdated(
    @Root() update: DeliveryUpdate,
    @Args() _filter: DeliveryUpdatedArgs,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Delivery> {
    const delivery = await deliveryOf(update, ctx.services.deliveries);
    if (!delivery) throw new NotFound('Delivery');
    return delivery;
  }
}
