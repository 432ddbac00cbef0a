import { Arg, Ctx, Extensions, FieldResolver, Resolver, Root } from 'type-graphql';
import { GraphQLContext } from '../graphql/context';
import { AGGREGATE } from '../graphql/query-limits';
import { Webhook } from '../webhooks/webhook.entity';
import { WebhookType } from '../webhooks/webhook.type';
import { WebhookStats } from './deliveries.service';
import { WebhookStatsType } from './webhook-stats.type';

/** `Webhook.stats`: how the webhook's deliveries have been doing (the delivery domain reaches out to the webhook type). */
@Resolver(() => WebhookType)
export class WebhookStatsResolver {
  @FieldResolver(() => WebhookStatsType, {
    description:
      'Deliveries created since `since` by status now, and the durations of the attempts made since then. An aggregate: it costs 100 nodes of the query budget.',
  })
  @Extensions(AGGREGATE)
  stats(
    @Root() webhook: Webhook,
    @Arg('since', () => Date, { nullable: true, description: 'Default: 24 hours ago.' }) since: Date | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<WebhookStats> {
    const compute = () => ctx.services.deliveries.stats(webhook.id, since);
    return ctx.budget ? ctx.budget.once(`stats:${webhook.id}:${since?.toISOString() ?? ''}`, compute) : compute();
  }
}
