import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { systemClock } from '../clock';
import { databaseLocation, loadConfig } from '../config';
import { openDatabase } from '../db/database';
import { appDatabaseSchema } from '../db/entities';
import { InvalidInput } from '../errors';
import { AccountsService } from './accounts.service';

/**
 * `npm run --silent account:create -- --name "Acme"` prints exactly one JSON line,
 * `{"accountId":"acc_…","apiKey":"dfk_…"}`, on the database at DATABASE_URL, or else DATABASE_PATH.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { name: { type: 'string' } }, strict: true });
  if (values.name === undefined) {
    process.stderr.write('usage: npm run --silent account:create -- --name "Acme"\n');
    process.exit(2);
  }
  const db = await openDatabase(databaseLocation(loadConfig()), appDatabaseSchema);
  try {
    const { account, key } = await new AccountsService(db, systemClock).createAccount(values.name);
    process.stdout.write(`${JSON.stringify({ accountId: account.id, apiKey: key })}\n`);
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  const message = error instanceof InvalidInput || error instanceof TypeError ? error.message : String(error);
  process.stderr.write(`account:create failed: ${message}\n`);
  process.exit(error instanceof InvalidInput ? 2 : 1);
});
