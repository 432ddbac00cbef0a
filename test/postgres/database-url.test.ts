import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, ROOT } from '../helpers/build';
import { freePort, postgresEnv, PrivateCluster, startPrivateCluster } from '../helpers/postgres';

const PASSWORD = 's3cr3t-pw';

// Each test spawns a few processes at once; on a busy machine each takes seconds to load.
jest.setTimeout(60_000);

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs `node dist/src/<script>` with DATABASE_URL = `url` (and PORT 0) until it exits; kills it after `timeoutMs`. */
function runToExit(script: string, url: string, args: string[] = [], timeoutMs = 30_000): Promise<Ended> {
  const started = Date.now();
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', script), ...args], {
    env: postgresEnv(url, { PORT: '0', LOG_LEVEL: 'info' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    }),
  );
}

const startServer = (url: string) => runToExit('main.js', url);
const createAccount = (url: string) => runToExit(join('accounts', 'account-create.cli.js'), url, ['--name', 'Acme']);

/** The password never appears, in clear or URL-encoded, anywhere the process wrote. */
function expectNoPassword(ended: Ended, password = PASSWORD): void {
  for (const form of new Set([password, encodeURIComponent(password)])) {
    expect(ended.stdout).not.toContain(form);
    expect(ended.stderr).not.toContain(form);
  }
}

/**
 * A start whose DATABASE_URL is malformed, points nowhere or is refused stops at once, with a
 * message that names DATABASE_URL and never the password: configuration mistakes exit 2 before
 * anything is opened, a database that cannot be reached exits non-zero within seconds (no hang, no
 * half-started server). The account CLI behaves the same.
 */
describe('DATABASE_URL that is wrong or unreachable', () => {
  let closedPort: number;
  beforeAll(async () => {
    ensureBuilt();
    closedPort = await freePort();
  }, 120_000);

  it('an unreachable server (a closed loopback port, or a host that does not resolve): exits non-zero within seconds, names DATABASE_URL, never prints the password', async () => {
    const encoded = 's3cr3t@pw/with:chars';
    const [closed, unresolvable] = await Promise.all([
      startServer(`postgres://deskforge:${PASSWORD}@127.0.0.1:${closedPort}/deskforge`),
      startServer(`postgresql://deskforge:${encodeURIComponent(encoded)}@no-such-host.invalid:5432/deskforge`),
    ]);
    for (const ended of [closed, unresolvable]) {
      expect(ended.signal).toBeNull();
      expect(ended.code).not.toBe(0);
      expect(ended.code).not.toBeNull();
      expect(ended.ms).toBeLessThan(15_000);
      expect(ended.stderr).toMatch(/^failed to start: .*DATABASE_URL/m);
      expect(ended.stdout).not.toMatch(/listening on/);
      expectNoPassword(ended);
    }
    // Where it tried is said (without the password): that is what an operator needs to fix it.
    expect(closed.stderr).toContain(`deskforge:***@127.0.0.1:${closedPort}/deskforge`);
    expectNoPassword(unresolvable, encoded);
  });

  it('a password given as the ?password= parameter (which the pg driver honours, see below) is not printed either', async () => {
    const ended = await startServer(`postgres://deskforge@127.0.0.1:${closedPort}/deskforge?password=${PASSWORD}`);
    expect(ended.code).not.toBe(0);
    expect(ended.code).not.toBeNull();
    expect(ended.stderr).toMatch(/DATABASE_URL/);
    expectNoPassword(ended);
  });

  it('malformed values: each exits 2 with "configuration error: DATABASE_URL …" before opening anything, no password', async () => {
    const malformed = ['postgres://', 'not a url', `mysql://u:${PASSWORD}@h/db`, `postgres://u:${PASSWORD}@127.0.0.1:5432`];
    const ends = await Promise.all(malformed.map((url) => startServer(url)));
    ends.forEach((ended, index) => {
      const what = `DATABASE_URL=${malformed[index]}: ${ended.stderr}`;
      expect({ what, code: ended.code, signal: ended.signal }).toEqual({ what, code: 2, signal: null });
      expect(ended.stderr).toMatch(/^configuration error: DATABASE_URL /m);
      expect(ended.stderr).not.toMatch(/failed to start/);
      expectNoPassword(ended);
    });
  });

  it('the account CLI with an unreachable or a malformed DATABASE_URL: non-zero exit, names DATABASE_URL, no password, no account printed', async () => {
    const [unreachable, malformed] = await Promise.all([
      createAccount(`postgres://deskforge:${PASSWORD}@127.0.0.1:${closedPort}/deskforge`),
      createAccount(`mysql://u:${PASSWORD}@h/db`),
    ]);
    for (const ended of [unreachable, malformed]) {
      expect(ended.signal).toBeNull();
      expect(ended.code).not.toBe(0);
      expect(ended.code).not.toBeNull();
      expect(ended.stderr).toMatch(/DATABASE_URL/);
      expect(ended.stdout).not.toMatch(/apiKey/);
      expectNoPassword(ended);
    }
  });
});

/**
 * Against a server that requires a password (a private cluster with scram-sha-256): a wrong
 * password stops the start (and the account CLI) with a message naming DATABASE_URL, and neither the
 * wrong password nor the right one is printed; the right one works, also given as `?password=`.
 */
describe('DATABASE_URL with a wrong password', () => {
  const RIGHT = 'right-pw-7f3a';
  let cluster: PrivateCluster;
  beforeAll(async () => {
    ensureBuilt();
    cluster = await startPrivateCluster({ password: RIGHT });
  }, 120_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('is refused: non-zero exit, DATABASE_URL named, neither password printed; the account CLI likewise', async () => {
    const [server, cli] = await Promise.all([
      startServer(cluster.urlOf('postgres', PASSWORD)),
      createAccount(cluster.urlOf('postgres', PASSWORD)),
    ]);
    for (const ended of [server, cli]) {
      expect(ended.code).not.toBe(0);
      expect(ended.code).not.toBeNull();
      expect(ended.ms).toBeLessThan(15_000);
      expect(ended.stderr).toMatch(/DATABASE_URL/);
      expect(ended.stderr).toMatch(/password authentication failed/);
      expectNoPassword(ended);
      expectNoPassword(ended, RIGHT);
    }
    expect(server.stderr).toMatch(/^failed to start: .*DATABASE_URL/m);
  });

  it('the right password works, in the URL or as ?password= (so a ?password= is a real password, and must be hidden like one)', async () => {
    const [inUserInfo, inQuery] = await Promise.all([
      createAccount(cluster.urlOf('postgres', RIGHT)),
      createAccount(`${cluster.urlOf('postgres')}?password=${RIGHT}`),
    ]);
    for (const ended of [inUserInfo, inQuery]) {
      expect(ended.code).toBe(0);
      expect(JSON.parse(ended.stdout.trim())).toEqual({ accountId: expect.stringMatching(/^acc_/), apiKey: expect.any(String) });
      expectNoPassword(ended, RIGHT);
    }
  });
});
