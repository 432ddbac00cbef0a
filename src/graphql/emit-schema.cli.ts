import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSchema, printSchemaFile } from './schema';

/** `npm run schema:emit`: rewrites schema.graphql at the project root from the code. */
async function main(): Promise<void> {
  const target = join(__dirname, '..', '..', '..', 'schema.graphql');
  writeFileSync(target, printSchemaFile(await createSchema()));
  process.stdout.write(`wrote ${target}\n`);
}

void main();
