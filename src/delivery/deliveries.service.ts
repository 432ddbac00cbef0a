import { Database } from '../db/database';
import { Page, PageArgs, paginate } from '../db/pagination';
import { DeliveryAttempt } from './delivery-attempt.entity';
import { DeliveryStatus } from './delivery-status';
import { Delivery } from './delivery.entity';

export interface DeliveryFilter {
  webhookId?: string | null;
  eventId?: string | null;
  status?: DeliveryStatus | null;
}

/** Reads of deliveries and their attempts, always scoped to one account. */
export class DeliveriesService {
  constructor(private readonly db: Database) {}

  get(accountId: string, id: string): Promise<Delivery | null> {
    return this.db.dataSource.getRepository(Delivery).findOneBy({ id, accountId });
  }

  list(accountId: string, args: PageArgs & DeliveryFilter): Promise<Page<Delivery>> {
    const query = this.db.dataSource
      .getRepository(Delivery)
      .createQueryBuilder('delivery')
      .where('delivery.accountId = :accountId', { accountId });
    if (args.webhookId) query.andWhere('delivery.webhookId = :webhookId', { webhookId: args.webhookId });
    if (args.eventId) query.andWhere('delivery.eventId = :eventId', { eventId: args.eventId });
    if (args.status) query.andWhere('delivery.status = :status', { status: args.status });
    return paginate(query, args);
  }

  attempts(deliveryId: string): Promise<DeliveryAttempt[]> {
    return this.db.dataSource.getRepository(DeliveryAttempt).find({ where: { deliveryId }, order: { number: 'ASC' } });
  }
}
