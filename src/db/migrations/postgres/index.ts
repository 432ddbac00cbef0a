import { PostgresInitial1796300000000 } from './1796300000000-PostgresInitial';

/**
 * PostgreSQL's migrations, oldest first. A schema change gets one migration per engine: generate
 * this one against a PostgreSQL database migrated to the current head (`DATABASE_URL=… npx typeorm
 * migration:generate -d dist/ormconfig.js src/db/migrations/postgres/<Name>`), and list it here.
 */
export const postgresMigrations = [PostgresInitial1796300000000];
