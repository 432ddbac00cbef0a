import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, BuildSchemaOptions } from 'type-graphql';
import { AccountsResolver } from '../accounts/accounts.resolver';
import { BuildsResolver } from '../builds/builds.resolver';
import { DeliveriesResolver } from '../delivery/deliveries.resolver';
import { EventsResolver } from '../events/events.resolver';
import { ProjectsResolver } from '../projects/projects.resolver';
import { WebhooksResolver } from '../webhooks/webhooks.resolver';
import './enums';

export const resolvers: BuildSchemaOptions['resolvers'] = [
  AccountsResolver,
  WebhooksResolver,
  ProjectsResolver,
  BuildsResolver,
  EventsResolver,
  DeliveriesResolver,
];

/** The executable schema. Resolvers are stateless: everything they need comes from the context. */
export function createSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    validate: false,
  });
}

/** The SDL committed as `schema.graphql`, sorted so the file only changes when the schema does. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
