import { lookup as dnsLookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

export const MAX_URL_LENGTH = 2048;

/** Resolves a host name to every address it has, like `dns.lookup(host, { all: true })`. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * True for an address a webhook may target: public unicast only. Loopback, private, link-local, CGNAT,
 * multicast, unspecified, broadcast and reserved ranges are refused; IPv4-mapped IPv6 is judged as IPv4.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  return parsed.range() === 'unicast';
}

export class UrlPolicyError extends Error {}

/** The host of a URL without IPv6 brackets (`[::1]` → `::1`). */
export function bareHostname(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * Checks a webhook URL when it is saved. Unless private URLs are allowed: https only, and the host
 * must be, or resolve only to, public addresses. The sender checks again against the address it
 * actually connects to, since DNS can change after the save.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolver): Promise<string> {
  if (raw.length > MAX_URL_LENGTH) throw new UrlPolicyError(`must be at most ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlPolicyError('must be an absolute URL such as https://example.com/webhooks');
  }
  const schemes = allowPrivate ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new UrlPolicyError(allowPrivate ? 'must use http or https' : 'must use https');
  }
  if (allowPrivate) return raw;
  const host = bareHostname(url);
  if (isIP(host)) {
    if (!isPublicAddress(host)) throw new UrlPolicyError('must not target a private, loopback or reserved address');
    return raw;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) {
    throw new UrlPolicyError('must not target a private, loopback or reserved address');
  }
  let addresses: Array<{ address: string }>;
  try {
    addresses = await resolve(host);
  } catch {
    throw new UrlPolicyError(`host "${host}" does not resolve`);
  }
  if (addresses.length === 0 || addresses.some(({ address }) => !isPublicAddress(address))) {
    throw new UrlPolicyError('must not target a private, loopback or reserved address');
  }
  return raw;
}
