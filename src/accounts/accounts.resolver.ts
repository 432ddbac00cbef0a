import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { accountOf, GraphQLContext } from '../graphql/context';
import { Account } from './account.entity';
import { AccountType, ApiKeyType, CreateApiKeyPayload } from './account.type';
import { ApiKey } from './api-key.entity';

@Resolver()
export class AccountsResolver {
  @Query(() => AccountType)
  viewer(@Ctx() ctx: GraphQLContext): Promise<Account> {
    return ctx.services.accounts.getAccount(accountOf(ctx));
  }

  @Query(() => [ApiKeyType])
  apiKeys(@Ctx() ctx: GraphQLContext): Promise<ApiKey[]> {
    return ctx.services.accounts.listApiKeys(accountOf(ctx));
  }

  @Mutation(() => CreateApiKeyPayload)
  createApiKey(@Arg('name') name: string, @Ctx() ctx: GraphQLContext): Promise<CreateApiKeyPayload> {
    return ctx.services.accounts.createApiKey(accountOf(ctx), name);
  }

  @Mutation(() => ApiKeyType)
  revokeApiKey(@Arg('id', () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<ApiKey> {
    return ctx.services.accounts.revokeApiKey(accountOf(ctx), id);
  }
}
