import { AccountsService, Viewer } from '../accounts/accounts.service';
import { BuildsService } from '../builds/builds.service';
import { DeliveriesService } from '../delivery/deliveries.service';
import { Unauthenticated } from '../errors';
import { EventsService } from '../events/events.service';
import { ProjectsService } from '../projects/projects.service';
import { LiveFeed } from './live-iterator';
import { OperationBudget } from './operation-budget';
import { WebhooksService } from '../webhooks/webhooks.service';

/** The services the resolvers call; built once per app in `app.ts`. */
export interface Services {
  accounts: AccountsService;
  webhooks: WebhooksService;
  projects: ProjectsService;
  builds: BuildsService;
  events: EventsService;
  deliveries: DeliveriesService;
}

export interface GraphQLContext {
  /**
   * The caller's account; null only for introspection-only requests, which need no key. Resolvers see
   * the account, not which of its keys was used: subscribers of one account share executions.
   */
  viewer: Pick<Viewer, 'accountId'> | null;
  services: Services;
  /** The connection's live feed; present only on WebSocket operations, where subscriptions run. */
  live?: LiveFeed;
  /**
   * What this operation may still spend (time, result bytes) and the aggregates it computed. Every
   * operation of an account has one; a subscription's has one per event it executes.
   */
  budget?: OperationBudget;
  /** The operation's cost (`operationCost`), where it is known before execution (WebSocket operations). */
  cost?: number;
}

/** The caller's account id; throws when the request carried no valid key. */
export function accountOf(context: GraphQLContext): string {
  if (!context.viewer) throw new Unauthenticated();
  return context.viewer.accountId;
}

/** The connection's live feed. Only WebSocket operations have one; HTTP refuses subscriptions before they run. */
export function liveOf(context: GraphQLContext): LiveFeed {
  if (!context.live) throw new Error('subscriptions run only over WebSocket');
  return context.live;
}
