import { FieldNode, GraphQLResolveInfo, Kind, SelectionSetNode } from 'graphql';
import { ArgsType, ClassType, Extensions, Field, Int, ObjectType } from 'type-graphql';
import { plainFields } from './plain-fields';
import { AGGREGATE } from './query-limits';

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

    @Field(() => Int, { description: 'How many items the whole list holds. An aggregate: it costs 100 nodes of the query budget.' })
    @Extensions(AGGREGATE)
    totalCount: number;
  }

  return Connection;
}

/**
 * The names of the fields a connection query asks of its nodes (under `nodes` and `edges { node }`,
 * fragments included, whatever their directives), so a list can read only the columns it needs.
 */
export function selectedNodeFields(info: GraphQLResolveInfo): Set<string> {
  const names = new Set<string>();
  const visit = (selectionSet: SelectionSetNode | undefined, into: (field: FieldNode) => void) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) into(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) visit(selection.selectionSet, into);
      else visit(info.fragments[selection.name.value]?.selectionSet, into);
    }
  };
  const addNodeField = (field: FieldNode) => {
    if (field.name.value !== '__typename') names.add(field.name.value);
  };
  for (const connection of info.fieldNodes) {
    visit(connection.selectionSet, (field) => {
      if (field.name.value === 'nodes') visit(field.selectionSet, addNodeField);
      if (field.name.value === 'edges')
        visit(field.selectionSet, (edge) => edge.name.value === 'node' && visit(edge.selectionSet, addNodeField));
    });
  }
  return names;
}
