import { ArgsType, ClassType, Field, Int, ObjectType } from 'type-graphql';
import { plainFields } from './plain-fields';

@ObjectType(plainFields)
export class PageInfo {
  @Field()
  hasNextPage: boolean;

  @Field(() => String, { nullable: true })
  endCursor: string | null;
}

/** `first` (default 20, at most 100) and `after`, shared by every list. */
@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Page size: default 20, at most 100.' })
  first?: number | null;

  @Field(() => String, { nullable: true, description: 'The `endCursor` of the previous page.' })
  after?: string | null;
}

/** A Relay-style connection type `<name>Connection` with its `<name>Edge`. */
export function ConnectionType<T extends object>(node: ClassType<T>, name: string) {
  @ObjectType(`${name}Edge`, plainFields)
  class Edge {
    @Field()
    cursor: string;

    @Field(() => node)
    node: T;
  }

  @ObjectType(`${name}Connection`, plainFields)
  class Connection {
    @Field(() => [node])
    nodes: T[];

    @Field(() => [Edge])
    edges: Edge[];

    @Field(() => PageInfo)
    pageInfo: PageInfo;

    @Field(() => Int)
    totalCount: number;
  }

  return Connection;
}
