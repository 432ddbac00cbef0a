import { ApiKeyCache } from '../../src/accounts/api-key-cache';

describe('ApiKeyCache', () => {
  it('trusts a key for a minute of the clock it is given, not of the wall clock', () => {
    let now = 1_000_000;
    const cache = new ApiKeyCache(() => now);
    const viewer = { accountId: 'acc_1', apiKeyId: 'key_1' };
    cache.set('hash', viewer);
    now += 59_999;
    expect(cache.get('hash')).toBe(viewer);
    now += 1;
    expect(cache.get('hash')).toBeUndefined();
  });

  it('forgets a revoked key at once', () => {
    const cache = new ApiKeyCache(() => 0);
    cache.set('hash', { accountId: 'acc_1', apiKeyId: 'key_1' });
    cache.forgetKey('key_1');
    expect(cache.get('hash')).toBeUndefined();
  });
});
