/**
 * The real cosign CLI's attestation commands, offline, in the same clean environment
 * test/support/cosign.ts gives `sign` and `verify`: `cosign attest --key` (v2 writes the legacy
 * `sha256-<hex>.att` tag, v3 a sigstore bundle referrer) with no transparency log, and
 * `cosign verify-attestation --key --insecure-ignore-tlog`. Every run has a dead proxy, so a
 * request beyond loopback fails at once, and a run that created a TUF cache (it wanted the
 * public trust root) is an error.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CosignKeyPair, CosignVersion } from './cosign.js';
import { writeDockerConfig } from './docker-config.js';
import { makeTempDir, runCommand, type CommandResult } from './process.js';
import type { TestRegistry } from './registries.js';
import { toolPath } from './tools.js';

const DEAD_PROXY = 'http://127.0.0.1:9';
const TIMEOUT_MS = 60_000;
const EMPTY_TRUSTED_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

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
  const scratch = makeTempDir('cosign-attest');
  try {
    const home = join(scratch.dir, 'home');
    mkdirSync(home, { recursive: true });
    const tufRoot = join(home, '.sigstore', 'root');
    const dockerDir = join(scratch.dir, 'docker');
    const logins = registry.username !== undefined && registry.password !== undefined
      ? [{ host: registry.host, username: registry.username, password: registry.password }]
      : [];
    writeDockerConfig(dockerDir, logins);
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: home,
      TMPDIR: scratch.dir,
      DOCKER_CONFIG: dockerDir,
      TUF_ROOT: tufRoot,
      COSIGN_PASSWORD: '',
      HTTPS_PROXY: DEAD_PROXY,
      HTTP_PROXY: DEAD_PROXY,
      https_proxy: DEAD_PROXY,
      http_proxy: DEAD_PROXY,
      NO_PROXY: '127.0.0.1,localhost,::1',
      no_proxy: '127.0.0.1,localhost,::1',
      ...(registry.caBundleFile === undefined ? {} : { SSL_CERT_FILE: registry.caBundleFile }),
    };
    const args = argsIn(scratch.dir);
    if (registry.scheme === 'http') args.splice(1, 0, '--allow-http-registry=true');
    const result = await runCommand(toolPath(version === 2 ? 'cosign2' : 'cosign3'), args, { env, timeoutMs: TIMEOUT_MS });
    if (`${result.stdout}\n${result.stderr}`.includes('proxyconnect') || existsSync(tufRoot)) {
      throw new Error(`cosign v${version} ${args[0] ?? ''} tried to reach the network:\n${result.stderr}`);
    }
    return result;
  } finally {
    scratch.remove();
  }
}
