import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { databaseLocation, loadConfig } from './src/config';
import { dataSourceOptions, withEngineColumnTypes } from './src/db/data-source-options';
import { engineOf } from './src/db/engine';
import { appDatabaseSchema } from './src/db/entities';

/**
 * For the TypeORM CLI: `npx typeorm -d dist/ormconfig.js migration:generate …`, on the database of
 * DATABASE_URL, or else DATABASE_PATH. Its dates are typed for that engine as the app's are.
 */
const source = new DataSource(dataSourceOptions(databaseLocation(loadConfig()), appDatabaseSchema));
const initialize = source.initialize.bind(source);
source.initialize = () => withEngineColumnTypes(engineOf(source), initialize);

export default source;
