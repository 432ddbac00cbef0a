import { ConfigError, databaseLocation, loadConfig } from '../src/config';
import { redactLocation } from '../src/db/engine';

describe('configuration', () => {
  it('has the contract defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      databasePath: './data/deskforge.sqlite',
      logLevel: 'info',
      webhook: {
        timeoutMs: 10_000,
        retryDelaysMs: [30_000, 300_000, 1_800_000],
        concurrency: 50,
        endpointConcurrency: 5,
        disableAfterFailures: 15,
        allowPrivateUrls: false,
        leaseMs: 60_000,
        dispatch: true,
      },
    });
    expect([...config.roles]).toEqual(['api', 'worker']);
  });

  it('reads DATABASE_URL: PostgreSQL when set, the SQLite file when not', () => {
    expect(databaseLocation(loadConfig({}))).toBe('./data/deskforge.sqlite');
    for (const url of ['postgres://deskforge:pw@db.internal:5432/deskforge', 'postgresql://u@127.0.0.1/x?sslmode=require']) {
      expect(databaseLocation(loadConfig({ DATABASE_URL: url, DATABASE_PATH: '/ignored.sqlite' }))).toBe(url);
    }
    expect(databaseLocation(loadConfig({ DATABASE_URL: '  ' }))).toBe('./data/deskforge.sqlite');
  });

  it.each([
    ['not a URL', 'not a url s3cr3t-pw'],
    ['another engine', 'mysql://root:s3cr3t-pw@localhost/db'],
    ['no host', 'postgres://'],
    ['no database', 'postgres://u:s3cr3t-pw@localhost:5432/'],
  ])('refuses a DATABASE_URL with %s, naming it and never its password', (_what, value) => {
    let message = '';
    try {
      loadConfig({ DATABASE_URL: value });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/^DATABASE_URL must look like postgres:\/\/user:password@host:5432\/database/);
    expect(message).not.toContain('s3cr3t-pw');
  });

  it('shows a database location without its password', () => {
    expect(redactLocation('postgres://deskforge:s3cr3t-pw@db:5432/deskforge')).toBe('postgres://deskforge:***@db:5432/deskforge');
    expect(redactLocation('postgres://deskforge@db/deskforge')).toBe('postgres://deskforge@db/deskforge');
    expect(redactLocation('postgres://deskforge@db/deskforge?password=s3cr3t-pw&sslmode=require')).toBe(
      'postgres://deskforge@db/deskforge?password=***&sslmode=require',
    );
    expect(redactLocation('./data/deskforge.sqlite')).toBe('./data/deskforge.sqlite');
  });

  it('reads DESKFORGE_ROLES: api alone sends nothing, worker alone serves no API', () => {
    const api = loadConfig({ DESKFORGE_ROLES: 'api' });
    expect([...api.roles]).toEqual(['api']);
    expect(api.webhook.dispatch).toBe(false);
    const worker = loadConfig({ DESKFORGE_ROLES: ' Worker ' });
    expect([...worker.roles]).toEqual(['worker']);
    expect(worker.webhook.dispatch).toBe(true);
    expect([...loadConfig({ DESKFORGE_ROLES: 'worker,api' }).roles].sort()).toEqual(['api', 'worker']);
  });

  it('refuses a lease that does not outlast the attempt timeout, naming both variables', () => {
    expect(() => loadConfig({ WEBHOOK_LEASE_MS: '10000' })).toThrow(/WEBHOOK_LEASE_MS.*WEBHOOK_TIMEOUT_MS/);
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_LEASE_MS: '2000' })).toThrow(ConfigError);
    expect(loadConfig({ WEBHOOK_TIMEOUT_MS: '3000', WEBHOOK_LEASE_MS: '3001' }).webhook.leaseMs).toBe(3001);
  });

  it('reads every contract variable', () => {
    const config = loadConfig({
      PORT: '0',
      DATABASE_PATH: ':memory:',
      LOG_LEVEL: 'debug',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_RETRY_DELAYS_MS: '10, 20,30,40',
      WEBHOOK_CONCURRENCY: '7',
      WEBHOOK_ENDPOINT_CONCURRENCY: '2',
      WEBHOOK_DISABLE_AFTER_FAILURES: '3',
      WEBHOOK_ALLOW_PRIVATE_URLS: 'true',
    });
    expect(config).toMatchObject({
      port: 0,
      databasePath: ':memory:',
      logLevel: 'debug',
      webhook: {
        timeoutMs: 1500,
        retryDelaysMs: [10, 20, 30, 40],
        concurrency: 7,
        endpointConcurrency: 2,
        disableAfterFailures: 3,
        allowPrivateUrls: true,
      },
    });
    expect(loadConfig({ WEBHOOK_RETRY_DELAYS_MS: '' }).webhook.retryDelaysMs).toEqual([]);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', 'abc'],
    ['WEBHOOK_TIMEOUT_MS', '0'],
    ['WEBHOOK_RETRY_DELAYS_MS', '10,soon'],
    ['WEBHOOK_RETRY_DELAYS_MS', '-5'],
    ['WEBHOOK_CONCURRENCY', '1.5'],
    ['WEBHOOK_ALLOW_PRIVATE_URLS', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['DESKFORGE_ROLES', 'api,mailer'],
    ['DESKFORGE_ROLES', ','],
    ['WEBHOOK_LEASE_MS', 'long'],
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
