import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { ConnectionType } from '../graphql/connection';
import { DeletionPayload } from '../graphql/deletion-payload';
import { EventType } from '../graphql/enums';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('Webhook', plainFields)
export class WebhookType {
  @Field(() => ID)
  id: string;

  @Field()
  url: string;

  @Field(() => [EventType])
  events: EventType[];

  @Field()
  active: boolean;

  @Field(() => String, { nullable: true })
  description: string | null;

  @Field(() => String, { nullable: true, description: 'Why the service disabled this webhook (410 Gone, or too many failures in a row).' })
  disabledReason: string | null;

  @Field(() => Int, { description: 'Deliveries in a row that ended FAILED; a success resets it.' })
  consecutiveFailures: number;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

export const WebhookConnection = ConnectionType(WebhookType, 'Webhook');

@InputType()
export class CreateWebhookInput {
  @Field({ description: 'https URL, at most 2048 characters, not a private or loopback address.' })
  url: string;

  @Field(() => [EventType], { description: 'At least one; duplicates are folded.' })
  events: EventType[];

  @Field(() => String, {
    nullable: true,
    description:
      '16 to 256 characters; one starting with whsec_ must be base64 of 24 to 64 bytes (Standard Webhooks). Generated as whsec_… when omitted.',
  })
  secret?: string | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, defaultValue: true })
  active?: boolean | null;
}

@InputType()
export class UpdateWebhookInput {
  @Field(() => String, { nullable: true })
  url?: string | null;

  @Field(() => [EventType], { nullable: true })
  events?: EventType[] | null;

  @Field(() => String, { nullable: true })
  description?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'true also clears disabledReason and consecutiveFailures.' })
  active?: boolean | null;
}

@ObjectType(plainFields)
export class CreateWebhookPayload {
  @Field(() => WebhookType)
  webhook: WebhookType;

  @Field({ description: 'The signing secret; shown only here and by rotateWebhookSecret.' })
  secret: string;
}

@ObjectType(plainFields)
export class RotateWebhookSecretPayload {
  @Field(() => WebhookType)
  webhook: WebhookType;

  @Field({ description: 'The new signing secret. The previous one also signs webhook-signature for 24 hours.' })
  secret: string;
}

export const DeleteWebhookPayload = DeletionPayload('DeleteWebhookPayload');
