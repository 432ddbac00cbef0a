import { Field, ID, ObjectType } from 'type-graphql';
import { plainFields } from '../graphql/plain-fields';

@ObjectType('Account', plainFields)
export class AccountType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field()
  createdAt: Date;
}

@ObjectType('ApiKey', plainFields)
export class ApiKeyType {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field({ description: 'The first characters of the key, to tell keys apart; the key itself is never shown again.' })
  prefix: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;
}

@ObjectType('CreateApiKeyPayload', plainFields)
export class CreateApiKeyPayload {
  @Field(() => ApiKeyType)
  apiKey: ApiKeyType;

  @Field({ description: 'The key, shown this once only.' })
  key: string;
}
