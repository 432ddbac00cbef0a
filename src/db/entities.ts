import { Account } from '../accounts/account.entity';
import { ApiKey } from '../accounts/api-key.entity';
import { Build } from '../builds/build.entity';
import { DeliveryAttempt } from '../delivery/delivery-attempt.entity';
import { Delivery } from '../delivery/delivery.entity';
import { Event } from '../events/event.entity';
import { Change } from '../feed/change.entity';
import { Project } from '../projects/project.entity';
import { Webhook } from '../webhooks/webhook.entity';
import { DatabaseSchema } from './data-source-options';
import { migrations } from './migrations';
import { postgresMigrations } from './migrations/postgres';

/** Every entity of every domain: the one place in db/ that knows them. */
export const entities = [Account, ApiKey, Webhook, Project, Build, Event, Delivery, DeliveryAttempt, Change];

/** The app's database: what `openDatabase` and the TypeORM CLI (`ormconfig.ts`) are given. */
export const appDatabaseSchema: DatabaseSchema = { entities, migrations, postgresMigrations };
