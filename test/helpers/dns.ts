import { Resolver } from '../../src/webhooks/url-policy';

/**
 * DNS for tests of the SSRF policy: every name resolves to a public address (93.184.216.34) except
 * `internal.test` (a private one), `mixed.test` (a public and a loopback one) and `nowhere.test`
 * (does not resolve).
 */
export const testResolver: Resolver = async (hostname) => {
  if (hostname === 'internal.test') return [{ address: '10.0.0.7', family: 4 }];
  if (hostname === 'mixed.test')
    return [
      { address: '93.184.216.34', family: 4 },
      { address: '::1', family: 6 },
    ];
  if (hostname === 'nowhere.test') throw Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' });
  return [{ address: '93.184.216.34', family: 4 }];
};
