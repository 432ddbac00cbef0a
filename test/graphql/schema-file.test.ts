import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSchema, printSchemaFile } from '../../src/graphql/schema';

describe('schema.graphql', () => {
  it('is exactly what the code produces (run `npm run schema:emit` after changing the schema)', async () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'schema.graphql'), 'utf8');
    expect(committed).toBe(printSchemaFile(await createSchema()));
  });
});
