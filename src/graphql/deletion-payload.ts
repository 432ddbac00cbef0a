import { ClassType, Field, ID, ObjectType } from 'type-graphql';
import { plainFields } from './plain-fields';

export interface Deletion {
  id: string;
  deleted: boolean;
  message: string;
}

/** `{ id deleted message }`, the DeskForge page's answer to a delete, as the GraphQL type `name`. */
export function DeletionPayload(name: string): ClassType<Deletion> {
  @ObjectType(name, plainFields)
  class Payload implements Deletion {
    @Field(() => ID)
    id: string;

    @Field()
    deleted: boolean;

    @Field()
    message: string;
  }
  return Payload;
}
