import { Initial1795792533810 } from './1795792533810-Initial';
import { EventTestFlag1795792950066 } from './1795792950066-EventTestFlag';
import { DeliveryHistoryIndexes1796165237095 } from './1796165237095-DeliveryHistoryIndexes';
import { DatabaseQueue1796200000000 } from './1796200000000-DatabaseQueue';

/**
 * Every migration, oldest first; they run on start. Add one with
 * `npm run build && DATABASE_PATH=/tmp/scratch.sqlite npx typeorm migration:generate -d dist/ormconfig.js src/db/migrations/<Name>`
 * against a database migrated to the current head, then list it here.
 */
export const migrations = [
  Initial1795792533810,
  EventTestFlag1795792950066,
  DeliveryHistoryIndexes1796165237095,
  DatabaseQueue1796200000000,
];
