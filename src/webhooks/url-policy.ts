import { lookup as dnsLookup } from 'node:dns';
import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

export const MAX_URL_LENGTH = 2048;

/** Resolves a host name to every address it has, like `dns.lookup(host, { all: true })`. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

export const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) => dnsLookup(hostname, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));

/**
 * IPv6 prefixes whose last 32 bits are an IPv4 address that traffic reaches: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated but still routed by some stacks) and
 * the well-known NAT64 prefix (`64:ff9b::a.b.c.d`, RFC 6052).
 */
const EMBEDDING_IPV4 = ['::ffff:0:0', '::', '64:ff9b::'].map((prefix) => ipaddr.IPv6.parse(prefix));

/** The IPv4 address an IPv6 address stands for, or the address itself. */
function judgedAddress(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  if (address.kind() === 'ipv4') return address;
  const ipv6 = address as ipaddr.IPv6;
  if (!EMBEDDING_IPV4.some((prefix) => ipv6.match(prefix, 96))) return ipv6;
  return new ipaddr.IPv4(ipv6.toByteArray().slice(12));
}

/**
 * True for an address a webhook may target: public unicast only. Loopback, private, link-local, CGNAT,
 * multicast, unspecified, broadcast and reserved ranges are refused; an IPv6 address that embeds an
 * IPv4 one (`::ffff:a.b.c.d`, `::a.b.c.d`, `64:ff9b::a.b.c.d`) is judged by that IPv4 address.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  return judgedAddress(ipaddr.parse(address)).range() === 'unicast';
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
