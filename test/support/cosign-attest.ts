/**
 * The real cosign CLI's attestation commands, offline, in the same clean environment
 * test/support/cosign.ts gives `sign` and `verify`: `cosign attest --key` (v2 writes the legacy
 * `sha256-<hex>.att` tag, v3 a sigstore bundle referrer) with no transparency log, and
 * `cosign verify-attestation --key --insecure-ignore-tlog`. Every run has a dead proxy, so a
 * request beyond loopback fails at once, and a run that created a TUF cache (it wanted the
 * public trust root) is an error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertStayedOnLoopback, cosignBinary, cosignEnv, EMPTY_TRUSTED_ROOT, type CosignKeyPair, type CosignVersion } from './cosign.js';
import { runCommand, type CommandResult } from './process.js';
import type { TestRegistry } from './registries.js';

const TIMEOUT_MS = 60_000;

export interface AttestOptions {
  readonly cosign: CosignVersion;
  readonly image: string;
  readonly key: CosignKeyPair;
  readonly registry: TestRegistry;
  /** cosign's `--type`: a short name (`custom`, `slsaprovenance1`, `spdxjson`) or a predicate type URI. */
  readonly type: string;
  /** The predicate document (JSON). */
  readonly predicate: unknown;
}

/** `cosign attest --key K --type T --predicate FILE IMAGE`, offline; rejects with cosign's output when it fails. */
export async function attest(options: AttestOptions): Promise<CommandResult> {
  const result = await runCosign(options.cosign, options.registry, (dir) => {
    const predicate = join(dir, 'predicate.json');
    writeFileSync(predicate, JSON.stringify(options.predicate));
    return [
      'attest', '--key', options.key.privateKey, '--type', options.type, '--predicate', predicate,
      '--tlog-upload=false', '--yes', ...(options.cosign === 3 ? ['--use-signing-config=false'] : []), options.image,
    ];
  });
  if (result.code !== 0) throw new Error(`cosign v${options.cosign} attest failed:\n${result.stderr}`);
  return result;
}

export interface VerifyAttestationOptions {
  readonly cosign: CosignVersion;
  readonly image: string;
  readonly publicKey: string;
  readonly registry: TestRegistry;
  readonly type: string;
}

/** `cosign verify-attestation --key K --type T --insecure-ignore-tlog=true IMAGE`; resolves with its exit code and output. */
export async function verifyAttestation(options: VerifyAttestationOptions): Promise<CommandResult> {
  return runCosign(options.cosign, options.registry, (dir) => {
    const args = ['verify-attestation', '--key', options.publicKey, '--type', options.type, '--insecure-ignore-tlog=true'];
    if (options.cosign === 2) {
      // cosign v2 reads trust material even for a key; an empty root keeps it off the network.
      const root = join(dir, 'trusted_root.json');
      writeFileSync(root, JSON.stringify(EMPTY_TRUSTED_ROOT));
      args.push('--trusted-root', root);
    }
    return [...args, options.image];
  });
}

async function runCosign(version: CosignVersion, registry: TestRegistry, argsIn: (dir: string) => string[]): Promise<CommandResult> {
  const cosign = cosignEnv(registry);
  try {
    const args = argsIn(cosign.dir);
    if (registry.scheme === 'http') args.splice(1, 0, '--allow-http-registry=true');
    const result = await runCommand(cosignBinary(version), args, { env: cosign.env, timeoutMs: TIMEOUT_MS });
    return assertStayedOnLoopback(result, cosign, `cosign v${version} ${args[0] ?? ''}`);
  } finally {
    cosign.remove();
  }
}
