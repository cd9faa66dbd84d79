import dns from 'node:dns';
import net from 'node:net';
import { SigwardError } from '../errors.js';
import type { InsecureHosts } from './host.js';

/** Addresses that are not on the public internet: loopback, RFC 1918 and RFC 4193 private,
 * link-local (where cloud metadata services live), unspecified and shared (CGNAT) space. */
const INTERNAL = new net.BlockList();
for (const [address, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8],
  ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.168.0.0', 16],
] as const) INTERNAL.addSubnet(address, prefix, 'ipv4');
for (const [address, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10]] as const) {
  INTERNAL.addSubnet(address, prefix, 'ipv6');
}

/** Whether an IP address (v4, v6, or v4-mapped v6) is not on the public internet. */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped !== undefined) return INTERNAL.check(mapped, 'ipv4');
  const family = net.isIP(address);
  if (family === 4) return INTERNAL.check(address, 'ipv4');
  if (family === 6) return INTERNAL.check(address, 'ipv6');
  return true;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
export type NetLookup = (hostname: string, options: dns.LookupOptions, callback: LookupCallback) => void;

/** Every address a host name resolves to (the system resolver: /etc/hosts, then DNS). */
export type HostResolver = (hostname: string) => Promise<readonly dns.LookupAddress[]>;

export const systemResolver: HostResolver = (hostname) => dns.promises.lookup(hostname, { all: true });

/**
 * A socket `lookup` for a token realm that is not on the registry's own host: the name is
 * resolved here, every address it resolves to must be public, and the socket connects to an
 * address that was checked, so there is no window in which a second lookup (DNS rebinding)
 * could point it at the cluster network or a metadata endpoint.
 */
export function publicOnlyLookup(resolve: HostResolver = systemResolver): NetLookup {
  return (hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    resolve(hostname).then(
      (all) => {
        const addresses = all.filter((a) => wanted === undefined || a.family === wanted);
        const internal = all.find((a) => isInternalAddress(a.address));
        if (internal !== undefined || addresses.length === 0) {
          const found = internal?.address ?? 'no usable address';
          const refusal = new SigwardError('REGISTRY_AUTH', `token realm host ${hostname} resolves to ${found}, not a public address`);
          callback(refusal, '');
        } else if (options.all === true) callback(null, [...addresses]);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: unknown) => { callback(err as NodeJS.ErrnoException, ''); },
    );
  };
}

/** Whether a URL hostname names a machine on a private network (`[::1]` is given bracketed). */
export function isInternalHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = net.isIP(host);
  if (family === 4) return INTERNAL.check(host, 'ipv4');
  if (family === 6) return INTERNAL.check(host, 'ipv6');
  return false;
}

/**
 * Checks the token realm a registry's 401 points at before sigward sends anything there
 * (cosign-spec §3.2, as go-containerregistry does). The registry chooses this URL, so without
 * the check a hostile registry could make sigward send requests, and the user's Basic
 * credentials, into the cluster network or to a metadata endpoint (SSRF). Returns the reason
 * the realm is refused, or undefined when it may be used.
 */
export function realmProblem(realm: URL, registryHost: string, insecure: InsecureHosts): string | undefined {
  // A realm on another host is also checked where it resolves, at connect time (publicOnlyLookup).
  if (realm.protocol !== 'https:' && realm.protocol !== 'http:') return `scheme ${realm.protocol} is not HTTPS`;
  if (realm.protocol === 'http:' && !insecure.registry(registryHost)) {
    return 'plain HTTP realm for a registry spoken to over HTTPS';
  }
  if (realm.username !== '' || realm.password !== '') return 'realm URL carries credentials';
  const own = new URL(`http://${registryHost}`).hostname;
  if (isInternalHost(realm.hostname) && realm.hostname !== own) {
    return `realm host ${realm.hostname} is a private or loopback address other than the registry's own`;
  }
  return undefined;
}
