import { X509Certificate } from 'node:crypto';
import { SigwardError } from '../errors.js';
import type { CredentialProvider, RegistryClientOptions, RegistryEvent } from './types.js';
import { InsecureHosts, isHostPort } from './host.js';
import { DEFAULTS } from './limits.js';
import type { HostResolver } from './realm.js';

/** RegistryClientOptions with defaults filled in and every value checked. */
export interface Settings {
  readonly caCertificates: readonly string[];
  readonly insecure: InsecureHosts;
  readonly credentials: readonly CredentialProvider[];
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxConcurrentPerHost: number;
  readonly maxManifestBytes: number;
  readonly maxBlobBytes: number;
  readonly onRequest: ((event: RegistryEvent) => void) | undefined;
  readonly resolveHost: HostResolver | undefined;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Checks the options once, reporting every problem with its field (CONFIG_INVALID). */
export function checkOptions(options: RegistryClientOptions): Settings {
  const problems: string[] = [];
  const integer = (field: keyof RegistryClientOptions, fallback: number, min: number): number => {
    const value = options[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      problems.push(`${field}: must be an integer >= ${min}`);
      return fallback;
    }
    return value;
  };
  const settings: Settings = {
    caCertificates: checkCertificates(options.caCertificates ?? [], problems),
    insecure: new InsecureHosts(checkHosts(options.insecureRegistries ?? [], problems)),
    credentials: options.credentials === undefined ? [] : typeof options.credentials === 'function' ? [options.credentials] : [...options.credentials],
    timeoutMs: integer('requestTimeoutMs', DEFAULTS.requestTimeoutMs, 1),
    maxRetries: integer('maxRetries', DEFAULTS.maxRetries, 0),
    maxConcurrentPerHost: integer('maxConcurrentPerHost', DEFAULTS.maxConcurrentPerHost, 1),
    maxManifestBytes: integer('maxManifestBytes', DEFAULTS.maxManifestBytes, 1),
    maxBlobBytes: integer('maxBlobBytes', DEFAULTS.maxBlobBytes, 1),
    onRequest: options.onRequest,
    resolveHost: options.resolveHost,
  };
  if (problems.length > 0) throw new SigwardError('CONFIG_INVALID', `registry options: ${problems.join('; ')}`);
  return settings;
}

/** Each entry must hold at least one PEM certificate, and every one must parse: a CA file that
 * silently adds nothing would only show up later as REGISTRY_TLS on some registry. */
function checkCertificates(pems: readonly string[], problems: string[]): string[] {
  pems.forEach((pem, index) => {
    const blocks = pem.match(PEM_CERTIFICATE) ?? [];
    if (blocks.length === 0) problems.push(`caCertificates[${index}]: no PEM certificate`);
    blocks.forEach((block, at) => {
      try {
        new X509Certificate(block);
      } catch {
        problems.push(`caCertificates[${index}]: certificate ${at + 1} does not parse`);
      }
    });
  });
  return [...pems];
}

function checkHosts(hosts: readonly string[], problems: string[]): string[] {
  hosts.forEach((host, index) => {
    if (!isHostPort(host)) problems.push(`insecureRegistries[${index}]: ${JSON.stringify(host)} is not a host[:port]`);
  });
  return [...hosts];
}
