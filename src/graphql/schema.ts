import { DateTimeResolver } from 'graphql-scalars';
import { GraphQLSchema, lexicographicSortSchema, printSchema } from 'graphql';
import { buildSchema, BuildSchemaOptions, PubSub } from 'type-graphql';
import { AccountsResolver } from '../accounts/accounts.resolver';
import { BuildsResolver } from '../builds/builds.resolver';
import { ProjectBuildsResolver } from '../builds/project-builds.resolver';
import { DeliveriesResolver } from '../delivery/deliveries.resolver';
import { DeliveriesSubscriptionResolver } from '../delivery/deliveries.subscription';
import { WebhookDeliveriesResolver } from '../delivery/webhook-deliveries.resolver';
import { WebhookStatsResolver } from '../delivery/webhook-stats.resolver';
import { EventsResolver } from '../events/events.resolver';
import { EventsSubscriptionResolver, resolveEventsSynchronously } from '../events/events.subscription';
import { ProjectsResolver } from '../projects/projects.resolver';
import { WebhooksResolver } from '../webhooks/webhooks.resolver';
import { budgetedSchema } from './budgeted-schema';
import './enums';

export const resolvers: BuildSchemaOptions['resolvers'] = [
  AccountsResolver,
  WebhooksResolver,
  WebhookDeliveriesResolver,
  ProjectsResolver,
  ProjectBuildsResolver,
  BuildsResolver,
  EventsResolver,
  DeliveriesResolver,
  WebhookStatsResolver,
  EventsSubscriptionResolver,
  DeliveriesSubscriptionResolver,
];

/**
 * type-graphql insists on a pubSub once the schema has subscriptions, even when each of them brings
 * its own `subscribe` (ours all do: they listen on the event bus through the connection's bounded
 * `LiveFeed`). This one is never called.
 */
const noPubSub: PubSub = {
  publish() {
    throw new Error('publish on the EventBus; subscriptions read it through LiveFeed');
  },
  subscribe() {
    throw new Error('every subscription brings its own `subscribe`');
  },
};

/** The executable schema. Resolvers are stateless: everything they need comes from the context, their budget too. */
export async function createSchema(): Promise<GraphQLSchema> {
  const schema = await buildSchema({
    resolvers,
    scalarsMap: [{ type: Date, scalar: DateTimeResolver }],
    validate: false,
    pubSub: noPubSub,
  });
  resolveEventsSynchronously(schema);
  return budgetedSchema(schema);
}

/** The SDL committed as `schema.graphql`, sorted so the file only changes when the schema does. */
export function printSchemaFile(schema: GraphQLSchema): string {
  return `${printSchema(lexicographicSortSchema(schema))}\n`;
}
