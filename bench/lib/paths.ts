import { resolve } from 'node:path';

/** The project root, from the compiled location `dist/bench/lib`. */
export const PROJECT_ROOT = resolve(__dirname, '../../..');

/** The compiled entry that `npm start` runs. */
export const SERVICE_MAIN = resolve(PROJECT_ROOT, 'dist/src/main.js');

/** The compiled account CLI that `npm run account:create` runs. */
export const ACCOUNT_CLI = resolve(PROJECT_ROOT, 'dist/src/accounts/account-create.cli.js');

/** Compiled bench processes, one file per role. */
export function processScript(name: string): string {
  return resolve(PROJECT_ROOT, 'dist/bench/processes', `${name}.js`);
}

export const RESULTS_DIR = resolve(PROJECT_ROOT, 'bench/results');
