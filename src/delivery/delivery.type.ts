import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { DeliveryStatus } from '../graphql/enums';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('DeliveryAttempt', plainFields)
export class DeliveryAttemptType {
  @Field(() => Int)
  number: number;

  @Field()
  startedAt: Date;

  @Field(() => Int)
  durationMs: number;

  @Field(() => Int, { nullable: true })
  responseStatus: number | null;

  @Field(() => String, { nullable: true, description: 'The first 4 KiB of the response body.' })
  responseBody: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Why the attempt failed when there was no 2xx: timeout, connection error, refused address.',
  })
  error: string | null;
}

@ObjectType('Delivery', plainFields)
export class DeliveryType {
  @Field(() => ID)
  id: string;

  @Field(() => ID)
  webhookId: string;

  @Field(() => DeliveryStatus)
  status: DeliveryStatus;

  @Field(() => Int)
  attemptCount: number;

  @Field(() => Date, { nullable: true })
  nextAttemptAt: Date | null;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  completedAt: Date | null;
}

export const DeliveryConnection = ConnectionType(DeliveryType, 'Delivery');

@ObjectType(plainFields)
export class RecoverFailedDeliveriesPayload {
  @Field(() => Int, { description: 'New deliveries made, one per recovered event.' })
  count: number;
}
