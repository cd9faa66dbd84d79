import { DOCKER_HUB } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';

/** `host[:port]`: a DNS name or IPv4 address, or a bracketed IPv6 address. Anything else (a `/`,
 * an `@`, a scheme) could smuggle another host or path into the request URL. */
const REGISTRY_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/** Repository path components, distribution-spec name grammar (cosign-spec §3.1). Validated
 * here too so that `..` or `?` can never reach a URL path, whoever built the Repository. */
const REPOSITORY_PATH = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;

export function isHostPort(value: string): boolean {
  return REGISTRY_HOST.test(value.toLowerCase());
}

/** The host that serves the distribution API for a normalized registry name: Docker Hub's
 * `docker.io` (and its aliases) is served by `registry-1.docker.io` (cosign-spec §3.3). */
export function apiHost(registry: string): string {
  const host = registry.toLowerCase();
  if (host === DOCKER_HUB.domain || (DOCKER_HUB.aliases as readonly string[]).includes(host)) return DOCKER_HUB.apiHost;
  return host;
}

/** The `--insecure-registry` allow-list: exact `host[:port]` matches speak plain HTTP. */
export class InsecureHosts {
  private readonly hosts: ReadonlySet<string>;

  constructor(hosts: readonly string[] = []) {
    this.hosts = new Set(hosts.map((h) => h.toLowerCase()));
  }

  has(host: string): boolean {
    return this.hosts.has(host.toLowerCase());
  }

  /** Whether a repository's registry is spoken to over plain HTTP. */
  registry(registry: string): boolean {
    return this.has(registry) || this.has(apiHost(registry));
  }

  /** Whether a URL met on the way (a redirect, a token realm) may use its scheme. */
  allows(url: URL): boolean {
    return url.protocol === 'https:' || (url.protocol === 'http:' && this.has(url.host));
  }
}

/** `https://<api host>/v2/<repository>/<rest>`, or `http://` for an insecure registry. */
export function registryUrl(repo: Repository, rest: string, insecure: InsecureHosts): URL {
  const host = apiHost(repo.registry);
  if (!isHostPort(host)) {
    throw new SigwardError(
      'REFERENCE_INVALID',
      `registry ${JSON.stringify(repo.registry)} (repository ${JSON.stringify(repo.repository)}) is not a host[:port]`,
    );
  }
  if (!REPOSITORY_PATH.test(repo.repository) || repo.repository.length > 255) {
    throw new SigwardError(
      'REFERENCE_INVALID',
      `registry ${repo.registry}: repository ${JSON.stringify(repo.repository)} is not a valid repository name`,
    );
  }
  const scheme = insecure.registry(repo.registry) ? 'http' : 'https';
  return new URL(`${scheme}://${host}/v2/${repo.repository}/${rest}`);
}
