/**
 * One check run twice: by the real `cosign verify` (once per key, since cosign takes one) and by
 * `sigward verify` (all keys at once), against the same registry and the same image.
 * cosign gets registry access its own way (DOCKER_CONFIG, SSL_CERT_FILE, COSIGN_REPOSITORY);
 * sigward gets the equivalent flags (--registry-config, --ca-file, --insecure-registry,
 * --signature-repository).
 */
import { verify, type CosignVersion } from './cosign.js';
import type { CommandResult } from './process.js';
import type { TestRegistry } from './registries.js';
import { runSigward } from './sigward.js';

export interface RegistryAccess {
  readonly registry: TestRegistry;
  /** Docker config.json sigward reads (`--registry-config`). */
  readonly configFile: string;
}

export interface VerifyCheck {
  readonly image: string;
  /** PEM public key files; cosign is run once per key. */
  readonly publicKeys: readonly string[];
  readonly threshold?: number;
  readonly annotations?: Readonly<Record<string, string>>;
  /** `HOST/REPO` holding the signatures (COSIGN_REPOSITORY / --signature-repository). */
  readonly signatureRepository?: string;
  readonly output?: 'text' | 'json';
  readonly cosign?: CosignVersion;
  /** Hash cosign verifies with (`--signature-digest-algorithm`); sigward takes no such option. */
  readonly cosignDigestAlgorithm?: 'sha256' | 'sha384' | 'sha512';
}

export interface SideBySide {
  /** One cosign run per key, in the order of `publicKeys`. */
  readonly cosign: readonly CommandResult[];
  /** How many keys cosign verified the image with. */
  readonly cosignVerified: number;
  readonly sigward: CommandResult;
}

/** The registry flags that give sigward what cosign gets from its environment. */
export function registryArgs(access: RegistryAccess): string[] {
  const args = ['--registry-config', access.configFile, '--timeout', '20'];
  if (access.registry.caFile !== undefined) args.push('--ca-file', access.registry.caFile);
  if (access.registry.scheme === 'http') args.push('--insecure-registry', access.registry.host);
  return args;
}

export function sigwardVerifyArgs(access: RegistryAccess, check: VerifyCheck): string[] {
  const args = ['verify', check.image];
  for (const key of check.publicKeys) args.push('--key', key);
  if (check.threshold !== undefined) args.push('--threshold', String(check.threshold));
  if (check.signatureRepository !== undefined) args.push('--signature-repository', check.signatureRepository);
  for (const [key, value] of Object.entries(check.annotations ?? {})) args.push('--annotation', `${key}=${value}`);
  if (check.output !== undefined) args.push('--output', check.output);
  return [...args, ...registryArgs(access)];
}

export async function runSigwardVerify(access: RegistryAccess, check: VerifyCheck): Promise<CommandResult> {
  return runSigward(sigwardVerifyArgs(access, check));
}

/** Runs cosign (once per key) and sigward on the same check, concurrently. */
export async function verifyWithBoth(access: RegistryAccess, check: VerifyCheck): Promise<SideBySide> {
  const cosignRuns = check.publicKeys.map((publicKey) =>
    verify({
      cosign: check.cosign ?? 2,
      image: check.image,
      publicKey,
      registry: access.registry,
      ...(check.annotations === undefined ? {} : { annotations: check.annotations }),
      ...(check.signatureRepository === undefined ? {} : { signatureRepository: check.signatureRepository }),
      ...(check.cosignDigestAlgorithm === undefined ? {} : { signatureDigestAlgorithm: check.cosignDigestAlgorithm }),
    }),
  );
  const [sigward, ...cosign] = await Promise.all([runSigwardVerify(access, check), ...cosignRuns]);
  return { cosign, cosignVerified: cosign.filter((run) => run.code === 0).length, sigward };
}

/** Parses a JSON array of simple-signing payloads (cosign's and sigward's `verify` stdout). */
export function parsePayloads(stdout: string): unknown[] {
  const parsed: unknown = JSON.parse(stdout.trim());
  if (!Array.isArray(parsed)) throw new Error(`expected a JSON array of payloads, got: ${stdout.slice(0, 200)}`);
  return parsed;
}

/** The `critical.image.docker-manifest-digest` of each payload. */
export function payloadDigests(payloads: readonly unknown[]): string[] {
  return payloads.map((payload) => {
    const digest = (payload as { critical?: { image?: { 'docker-manifest-digest'?: unknown } } }).critical?.image?.[
      'docker-manifest-digest'
    ];
    return typeof digest === 'string' ? digest : '';
  });
}
