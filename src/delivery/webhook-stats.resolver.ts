import { Arg, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { GraphQLContext } from '../graphql/context';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookType } from '../webhooks/webhook.type';
import { WebhookStats } from './deliveries.service';
import { WebhookStatsType } from './webhook-stats.type';

/** `Webhook.stats`: how the webhook's deliveries have been doing (the delivery domain reaches out to the webhook type). */
@Resolver(() => WebhookType)
export class WebhookStatsResolver {
  @FieldResolver(() => WebhookStatsType, { description: 'Deliveries created since `since` by status now, and the durations of the attempts made since then.' })
  stats(
    @Root() webhook: Webhook,
    @Arg('since', () => Date, { nullable: true, description: 'Default: 24 hours ago.' }) since: Date | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookStats> {
    return ctx.services.deliveries.stats(webhook.id, since);
  }
}
