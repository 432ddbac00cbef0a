import { Between, In } from 'typeorm';
import { Database } from '../db/database';
import { clientId } from '../ids';
import { CommittedEvent } from '../event-bus';
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

/** Events a resumed subscription reads per query. */
const REPLAY_PAGE = 100;

/** Reads of the event log; events are written only through the `Outbox`. */
export class EventsService {
  constructor(private readonly db: Database) {}

  /** Any event of the account, `testWebhook` samples included (a delivery's `event` must resolve). */
  get(accountId: string, id: string): Promise<Event | null> {
    return this.db.reader.getRepository(Event).findOneBy({ id: clientId(id), accountId });
  }

  /** The account's events with these ids, by id. */
  async getMany(accountId: string, ids: readonly string[]): Promise<Map<string, Event>> {
    const events = await this.db.reader.getRepository(Event).findBy({ id: In([...ids]), accountId });
    return new Map(events.map((event) => [event.id, event]));
  }

  /** The position in commit order of the account's published event `id`; null when there is none. */
  async positionOf(accountId: string, id: string): Promise<number | null> {
    const event = await this.db.reader
      .getRepository(Event)
      .findOne({ select: ['position'], where: { id: clientId(id), accountId, test: false } });
    return event?.position ?? null;
  }

  /**
   * The account's events matching `filter` with positions in (`after`, `upTo`], in commit order,
   * `pageSize` at a time (memory stays bounded however many were missed).
   */
  async *committedBetween(
    accountId: string,
    after: number,
    upTo: number,
    filter: EventFilter,
    pageSize = REPLAY_PAGE,
  ): AsyncGenerator<CommittedEvent[]> {
    let from = after;
    while (from < upTo) {
      const rows = await this.db.reader.getRepository(Event).find({
        select: ['id', 'accountId', 'type', 'projectId', 'createdAt', 'payload', 'position'],
        where: {
          accountId,
          position: Between(from + 1, upTo),
          ...(filter.types && filter.types.length > 0 ? { type: In(filter.types) } : {}),
          ...(filter.projectId ? { projectId: clientId(filter.projectId) } : {}),
        },
        order: { position: 'ASC' },
        take: pageSize,
      });
      if (rows.length === 0) return;
      yield rows.map(({ id, type, projectId, createdAt, payload, position }) => ({
        id,
        accountId,
        type,
        projectId,
        createdAt,
        payload,
        position: position!,
      }));
      if (rows.length < pageSize) return;
      from = rows[rows.length - 1].position!;
    }
  }

  /** The account's real events: `testWebhook` samples are left out. */
  list(accountId: string, args: PageArgs & EventFilter, select?: ReadonlySet<string>): Promise<Page<Event>> {
    return paginate(
      this.db.reader,
      Event,
      { accountId, test: false, type: foldEventTypes(args.types), projectId: clientId(args.projectId) },
      args,
      'createdAt',
      select,
    );
  }
}
