import { ConfigError, loadConfig } from '../src/config';

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
      },
    });
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
      webhook: { timeoutMs: 1500, retryDelaysMs: [10, 20, 30, 40], concurrency: 7, endpointConcurrency: 2, disableAfterFailures: 3, allowPrivateUrls: true },
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
  ])('refuses %s=%s with an error naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
