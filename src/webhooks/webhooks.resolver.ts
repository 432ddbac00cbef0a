import { GraphQLResolveInfo } from 'graphql';
import { Arg, Args, ArgsType, Ctx, Field, ID, Info, Mutation, Query, Resolver } from 'type-graphql';
import { Page } from '../db/pagination';
import { PageArgs, selectedNodeFields } from '../graphql/connection';
import { accountOf, GraphQLContext } from '../graphql/context';
import { Deletion } from '../graphql/deletion-payload';
import { Webhook } from './webhook.entity';
import {
  CreateWebhookInput,
  CreateWebhookPayload,
  DeleteWebhookPayload,
  RotateWebhookSecretPayload,
  UpdateWebhookInput,
  WebhookConnection,
  WebhookType,
} from './webhook.type';

@ArgsType()
class WebhooksArgs extends PageArgs {
  @Field(() => Boolean, { nullable: true })
  active?: boolean | null;
}

@Resolver(() => WebhookType)
export class WebhooksResolver {
  @Query(() => WebhookConnection)
  webhooks(@Args() args: WebhooksArgs, @Ctx() ctx: GraphQLContext, @Info() info: GraphQLResolveInfo): Promise<Page<Webhook>> {
    return ctx.services.webhooks.list(accountOf(ctx), args, selectedNodeFields(info));
  }

  @Query(() => WebhookType, { nullable: true })
  webhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Webhook | null> {
    return ctx.services.webhooks.get(accountOf(ctx), id);
  }

  @Mutation(() => CreateWebhookPayload)
  createWebhook(@Arg('input') input: CreateWebhookInput, @Ctx() ctx: GraphQLContext): Promise<CreateWebhookPayload> {
    return ctx.services.webhooks.create(accountOf(ctx), input);
  }

  @Mutation(() => WebhookType)
  updateWebhook(@Arg('id', () => ID) id: string, @Arg('input') input: UpdateWebhookInput, @Ctx() ctx: GraphQLContext): Promise<Webhook> {
    return ctx.services.webhooks.update(accountOf(ctx), id, input);
  }

  @Mutation(() => DeleteWebhookPayload)
  deleteWebhook(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<Deletion> {
    return ctx.services.webhooks.delete(accountOf(ctx), id);
  }

  @Mutation(() => RotateWebhookSecretPayload)
  rotateWebhookSecret(
    @Arg('id', () => ID) id: string,
    @Arg('secret', () => String, { nullable: true }) secret: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<RotateWebhookSecretPayload> {
    return ctx.services.webhooks.rotateSecret(accountOf(ctx), id, secret);
  }
}
