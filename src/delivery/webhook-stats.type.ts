import { Field, Float, Int, ObjectType } from 'type-graphql';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('WebhookStats', plainFields)
export class WebhookStatsType {
  @Field({ description: 'Start of the window: the `since` asked for, or 24 hours ago.' })
  since: Date;

  @Field(() => Int, { description: 'Deliveries created since then that are SUCCEEDED now.' })
  succeeded: number;

  @Field(() => Int, { description: 'Deliveries created since then that are FAILED now.' })
  failed: number;

  @Field(() => Int, { description: 'Deliveries created since then that are PENDING now.' })
  pending: number;

  @Field(() => Float, { nullable: true, description: 'succeeded ÷ (succeeded + failed); null when both are 0.' })
  successRate: number | null;

  @Field(() => Int, { description: 'Attempts started since then, of any delivery to this webhook.' })
  attempts: number;

  @Field(() => Int, { nullable: true, description: 'Median duration of those attempts (nearest rank); null without attempts.' })
  attemptDurationP50Ms: number | null;

  @Field(() => Int, { nullable: true, description: '95th percentile duration of those attempts (nearest rank); null without attempts.' })
  attemptDurationP95Ms: number | null;
}
