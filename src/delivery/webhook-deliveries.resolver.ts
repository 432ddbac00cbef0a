import { GraphQLResolveInfo } from 'graphql';
import { Args, ArgsType, Ctx, Field, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { readWithin } from '../graphql/load-by-id';
import { DeliveryStatus } from '../graphql/enums';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookType } from '../webhooks/webhook.type';
import { Delivery } from './delivery.entity';
import { DeliveryConnection } from './delivery.type';

@ArgsType()
class WebhookDeliveriesArgs extends PageArgs {
  @Field(() => DeliveryStatus, { nullable: true })
  status?: DeliveryStatus | null;
}

/** `Webhook.deliveries`: the link from a webhook to its deliveries belongs to delivery, the domain it reaches. */
@Resolver(() => WebhookType)
export class WebhookDeliveriesResolver {
  @FieldResolver(() => DeliveryConnection)
  deliveries(
    @Root() webhook: Webhook,
    @Args() args: WebhookDeliveriesArgs,
    @Ctx() ctx: GraphQLContext,
    @Info() info: GraphQLResolveInfo,
  ): Promise<Page<Delivery>> {
    return readWithin(ctx, () =>
      ctx.services.deliveries.list(accountOf(ctx), { ...args, webhookId: webhook.id }, selectedNodeFields(info)),
    );
  }
}
