/**
 * Which endpoint URLs a subscription may deliver to. A subscriber chooses the URL, so
 * without limits a subscription could make the hub call into its own network (the
 * database, a cloud metadata service, an admin console on localhost). By default:
 *
 * - https only (subscriptions.allowHttp admits http:// for development);
 * - no credentials in the URL (user:password@ ends up in logs and proxies; the
 *   signature authenticates the hub instead);
 * - no host that is, or resolves to, a loopback, private, carrier-grade NAT, link-local,
 *   unique-local, multicast, reserved or unspecified address
 *   (subscriptions.allowPrivateAddresses admits them, e.g. for tests or an internal hub).
 *
 * A literal address is refused when the subscription is written; a host name is
 * resolved before every delivery and a delivery to a refused address fails like any
 * other failure, with the reason in the delivery log.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ValidationError } from '../../domain/errors.ts';

export interface UrlPolicy {
  allowHttp: boolean;
  allowPrivateAddresses: boolean;
}

export const MAX_URL_LENGTH = 2048;

// two lists: a list holding IPv4-mapped IPv6 ranges would match every IPv4 address checked against it
const BLOCKED_V4 = new BlockList();
const BLOCKED_V6 = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], // "this network", unspecified
  ['10.0.0.0', 8],
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, cloud metadata services
  ['172.16.0.0', 12],
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16],
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) BLOCKED_V4.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::ffff:0:0', 96], // IPv4-mapped: no public endpoint is published this way
  ['64:ff9b::', 96], // NAT64 of IPv4 addresses
  ['100::', 64], // discard
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) BLOCKED_V6.addSubnet(net, prefix, 'ipv6');

/** Whether an IP address is one a subscription may not reach (loopback, private, link-local...). */
export function isNonPublicAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 4) return BLOCKED_V4.check(ip, 'ipv4');
  if (family === 6) return BLOCKED_V6.check(ip.replace(/%.*$/, ''), 'ipv6');
  return true; // not an address at all: refuse rather than guess
}

const invalid = (code: string, message: string) => new ValidationError(code, message, [{ path: '/url', message }]);

/** The host of a URL as an address when it is a literal one ([::1] -> ::1). */
function literalAddress(url: URL): string | undefined {
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return isIP(host) ? host : undefined;
}

/**
 * Checks an endpoint URL as written by a subscriber and returns it normalised. Throws a
 * ValidationError: subscription.invalid_url, subscription.insecure_url,
 * subscription.url_credentials or subscription.private_address.
 */
export function checkEndpointUrl(raw: string, policy: UrlPolicy): string {
  if (raw.length > MAX_URL_LENGTH) throw invalid('subscription.invalid_url', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid('subscription.invalid_url', `${JSON.stringify(raw.slice(0, 200))} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('subscription.invalid_url', `the URL must use https (got ${url.protocol.slice(0, -1)})`);
  if (url.protocol === 'http:' && !policy.allowHttp) throw invalid('subscription.insecure_url', 'the URL must use https (plain http is not allowed by this hub: subscriptions.allowHttp)');
  if (url.username || url.password) throw invalid('subscription.url_credentials', 'the URL must not carry credentials (user:password@); deliveries are authenticated by their signature');
  if (!url.hostname) throw invalid('subscription.invalid_url', 'the URL has no host');
  if (url.hash) throw invalid('subscription.invalid_url', 'the URL must not have a fragment (#...)');
  if (!policy.allowPrivateAddresses) {
    const ip = literalAddress(url);
    const host = url.hostname.toLowerCase().replace(/\.$/, '');
    if ((ip && isNonPublicAddress(ip)) || host === 'localhost' || host.endsWith('.localhost')) {
      throw invalid('subscription.private_address', `${url.hostname} is a loopback, private, link-local or otherwise non-public address; endpoints must be reachable on the public internet`);
    }
  }
  return url.toString();
}

/** A delivery that may not be attempted: the message goes to the delivery log. */
export class RefusedEndpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedEndpointError';
  }
}

/**
 * Before a delivery: the URL still passes the policy (the configuration may have
 * changed since it was written) and, unless private addresses are allowed, its host
 * resolves only to public addresses. Throws RefusedEndpointError otherwise.
 */
export async function assertDeliverable(raw: string, policy: UrlPolicy, timeoutMs: number): Promise<void> {
  try {
    checkEndpointUrl(raw, policy);
  } catch (e) {
    throw new RefusedEndpointError((e as Error).message);
  }
  if (policy.allowPrivateAddresses) return;
  const url = new URL(raw);
  if (literalAddress(url)) return; // checked above
  let addresses: { address: string }[];
  let timer: NodeJS.Timeout | undefined;
  try {
    addresses = await Promise.race([
      lookup(url.hostname, { all: true, verbatim: true }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`resolving ${url.hostname} took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    throw new RefusedEndpointError(`cannot resolve ${url.hostname}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
  const refused = addresses.filter((a) => isNonPublicAddress(a.address));
  if (refused.length) {
    throw new RefusedEndpointError(`${url.hostname} resolves to the non-public address ${refused[0]!.address}; deliveries go to public addresses only (subscriptions.allowPrivateAddresses)`);
  }
}
