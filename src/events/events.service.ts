import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { EventType, foldEventTypes } from './event-type';
import { Event } from './event.entity';

export interface EventFilter {
  types?: EventType[] | null;
  projectId?: string | null;
}

/** The `EventFilter` rule for one event: what `list` asks of the database, for events not read from it. */
export function matchesEventFilter(filter: EventFilter, event: Pick<Event, 'type' | 'projectId'>): boolean {
  if (filter.types && filter.types.length > 0 && !filter.types.includes(event.type)) return false;
  return !filter.projectId || event.projectId === filter.projectId;
}

/** Reads of the event log; events are written only through the `Outbox`. */
export class EventsService {
  constructor(private readonly db: Database) {}

  /** Any event of the account, `testWebhook` samples included (a delivery's `event` must resolve). */
  get(accountId: string, id: string): Promise<Event | null> {
    return this.db.reader.getRepository(Event).findOneBy({ id, accountId });
  }

  /** The account's real events: `testWebhook` samples are left out. */
  list(accountId: string, args: PageArgs & EventFilter, select?: ReadonlySet<string>): Promise<Page<Event>> {
    return paginate(this.db.reader, Event, { accountId, test: false, type: foldEventTypes(args.types), projectId: args.projectId }, args, 'createdAt', select);
  }
}
