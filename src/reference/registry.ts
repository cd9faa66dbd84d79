import { DOCKER_HUB } from '../constants.js';
import { SigwardError } from '../errors.js';
import { DOMAIN_NAME, IPV6_ADDRESS, PORT } from './grammar.js';

const HTTPS_PORT = 443;
const MAX_PORT = 65535;
const ALIASES: readonly string[] = DOCKER_HUB.aliases;

/**
 * distribution's splitDockerDomain rule: the first `/`-separated component names a registry
 * when it contains `.` or `:`, is `localhost`, or has an upper-case letter (a Docker Hub
 * namespace never has one); anything else is the first path component of a Docker Hub image.
 */
export function looksLikeRegistry(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

/**
 * Normalizes a registry `host[:port]` so that one endpoint has one spelling: the host is
 * lower-cased (host names are case-insensitive, and `Quay.IO` must not escape a policy written
 * for `quay.io`), `:443` is dropped where the host still reads as a registry without it (it is
 * the HTTPS default: `quay.io:443` is `quay.io`), a port's leading zeros are dropped, and
 * Docker Hub's aliases `index.docker.io` and `registry-1.docker.io` become `docker.io`.
 * Throws REFERENCE_INVALID when `host` is not a host name, IPv4 or bracketed IPv6 address
 * with an optional port.
 */
export function normalizeRegistry(host: string): string {
  const { hostname, port } = splitHostPort(host);
  const lower = hostname.toLowerCase();
  const keepPort = port !== undefined && !(port === HTTPS_PORT && looksLikeRegistry(lower));
  const normalized = keepPort ? `${lower}:${port}` : lower;
  return ALIASES.includes(normalized) ? DOCKER_HUB.domain : normalized;
}

/** The host that serves the distribution API for a normalized registry: Docker Hub's
 * registry name `docker.io` is served by `registry-1.docker.io`; every other host serves itself. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB.domain ? DOCKER_HUB.apiHost : registry;
}

function splitHostPort(host: string): { hostname: string; port: number | undefined } {
  let hostname: string;
  let portText: string | undefined;
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    hostname = close < 0 ? host : host.slice(0, close + 1);
    const rest = close < 0 ? '' : host.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw invalidHost(host, 'unexpected text after the IPv6 address');
    portText = rest === '' ? undefined : rest.slice(1);
    if (!IPV6_ADDRESS.test(hostname)) throw invalidHost(host, 'not a bracketed IPv6 address without zone');
  } else {
    const colon = host.indexOf(':');
    hostname = colon < 0 ? host : host.slice(0, colon);
    portText = colon < 0 ? undefined : host.slice(colon + 1);
    if (!DOMAIN_NAME.test(hostname)) throw invalidHost(host, 'not a host name or IPv4 address');
  }
  if (portText === undefined) return { hostname, port: undefined };
  const port = PORT.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= MAX_PORT)) throw invalidHost(host, 'port must be a number from 1 to 65535');
  return { hostname, port };
}

function invalidHost(host: string, what: string): SigwardError {
  return new SigwardError('REFERENCE_INVALID', `invalid registry ${quote(host)}: ${what}`);
}

/** Quotes untrusted text for a message: escaped (no line breaks reach a log) and bounded. */
export function quote(text: unknown): string {
  if (typeof text !== 'string') return '(not a string)';
  const limit = 200;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}
