import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../src/app';
import { ensureBuilt, ROOT } from '../helpers/build';
import { gqlOk } from '../helpers/graphql';
import { testConfig } from '../helpers/server';

describe('npm run account:create', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), 'deskforge-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const cli = (args: string[], databasePath: string) =>
    spawnSync(process.execPath, [join(ROOT, 'dist', 'src', 'accounts', 'account-create.cli.js'), ...args], {
      env: { ...process.env, DATABASE_PATH: databasePath },
      encoding: 'utf8',
    });

  it('prints exactly one JSON line with a working key, on a database it creates', async () => {
    const databasePath = join(dir, 'nested', 'folder', 'cli.sqlite');
    const result = cli(['--name', 'Acme'], databasePath);
    expect(result.status).toBe(0);
    const lines = result.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const printed = JSON.parse(lines[0]);
    expect(Object.keys(printed)).toEqual(['accountId', 'apiKey']);
    expect(printed.accountId).toMatch(/^acc_[A-Za-z0-9]{24}$/);
    expect(printed.apiKey).toMatch(/^dfk_[A-Za-z0-9_-]{32,}$/);

    expect(readFileSync(databasePath).includes(Buffer.from(printed.apiKey))).toBe(false);

    const app = await startApp(testConfig(dir, { databasePath }));
    try {
      const data = await gqlOk(app.url, '{ viewer { id name } apiKeys { name prefix } }', {}, printed.apiKey);
      expect(data.viewer).toEqual({ id: printed.accountId, name: 'Acme' });
      expect(data.apiKeys).toEqual([{ name: 'default', prefix: printed.apiKey.slice(0, 8) }]);
    } finally {
      await app.stop();
    }
  });

  it('runs through npm exactly as the README says', () => {
    const databasePath = join(dir, 'npm.sqlite');
    const result = spawnSync('npm', ['run', '--silent', 'account:create', '--', '--name', 'Via npm'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_PATH: databasePath },
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(result.stdout)).toEqual({ accountId: expect.stringMatching(/^acc_/), apiKey: expect.stringMatching(/^dfk_/) });
  }, 120_000);

  it('refuses a missing or empty name with a message and no account', () => {
    const databasePath = join(dir, 'bad.sqlite');
    const missing = cli([], databasePath);
    expect(missing.status).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/--name/);
    const empty = cli(['--name', '   '], databasePath);
    expect(empty.status).not.toBe(0);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toMatch(/name/);
  });
});
