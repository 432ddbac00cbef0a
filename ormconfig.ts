import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadConfig } from './src/config';
import { dataSourceOptions } from './src/db/data-source-options';
import { appDatabaseSchema } from './src/db/entities';

/** For the TypeORM CLI: `npx typeorm -d dist/ormconfig.js migration:generate …`. */
export default new DataSource(dataSourceOptions(loadConfig().databasePath, appDatabaseSchema));
