/**
 * The real cosign CLI (v2 and v3), run fully offline against a test registry.
 *
 * Offline means: signing never uploads to a transparency log (`--tlog-upload=false`; v3 also
 * `--use-signing-config=false`, since its default signing config comes from the public TUF
 * repository), and verification is `--insecure-ignore-tlog=true` with a key, for which v3 loads
 * no trusted root. cosign v2's verify fetches the TUF trusted root unless it is handed trust
 * material, so it gets a local, empty `--trusted-root` (nothing in it is used for a key
 * verification without tlog). As a guard, every run has HTTP(S)_PROXY pointing at a closed
 * loopback port: a request beyond loopback fails at once instead of leaving the machine (Go
 * never proxies loopback addresses, so the registry is reached directly).
 *
 * Registry access goes the way cosign really takes it: credentials from a temporary
 * DOCKER_CONFIG, TLS trust from SSL_CERT_FILE (system CAs plus the test CA), and
 * `--allow-http-registry` for crane's plain-HTTP registry.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeDockerConfig } from './docker-config.js';
import { makeTempDir, runChecked, runCommand, type CommandResult } from './process.js';
import type { TestRegistry } from './registries.js';
import { toolPath } from './tools.js';

export type CosignVersion = 2 | 3;

export interface CosignKeyPair {
  /** Encrypted cosign private key (`cosign.key` format, empty password). */
  readonly privateKey: string;
  /** PEM SubjectPublicKeyInfo (`cosign.pub`). */
  readonly publicKey: string;
}

const COMMAND_TIMEOUT_MS = 60_000;
/** A loopback port nothing listens on: the proxy every cosign run is given. */
const DEAD_PROXY = 'http://127.0.0.1:9';
/** A trusted root with no authorities: cosign v2 verify reads it instead of fetching the public one. */
export const EMPTY_TRUSTED_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

export function cosignBinary(version: CosignVersion): string {
  return toolPath(version === 2 ? 'cosign2' : 'cosign3');
}

export interface CosignEnv {
  readonly env: NodeJS.ProcessEnv;
  readonly dir: string;
  readonly tufRoot: string;
  readonly remove: () => void;
}

/** A clean environment: nothing inherited but PATH, so no developer's DOCKER_CONFIG, TUF cache,
 * COSIGN_EXPERIMENTAL or proxy leaks into the test. */
export function cosignEnv(registry: TestRegistry | undefined, signatureRepository?: string): CosignEnv {
  const scratch = makeTempDir('cosign');
  const home = join(scratch.dir, 'home');
  mkdirSync(home, { recursive: true });
  const dockerDir = join(scratch.dir, 'docker');
  const logins =
    registry?.username !== undefined && registry.password !== undefined
      ? [{ host: registry.host, username: registry.username, password: registry.password }]
      : [];
  writeDockerConfig(dockerDir, logins);
  const tufRoot = join(home, '.sigstore', 'root');
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
  };
  if (registry?.caBundleFile !== undefined) env.SSL_CERT_FILE = registry.caBundleFile;
  if (signatureRepository !== undefined) env.COSIGN_REPOSITORY = signatureRepository;
  return { env, dir: scratch.dir, tufRoot, remove: scratch.remove };
}

/** Go reports a refused proxy as `proxyconnect tcp: dial tcp 127.0.0.1:9`: seeing it means cosign
 * tried to reach a host beyond loopback, which an offline test must never do. */
export function assertStayedOnLoopback(result: CommandResult, env: CosignEnv, what: string): CommandResult {
  const output = `${result.stdout}\n${result.stderr}`;
  if (output.includes('proxyconnect') || output.includes(DEAD_PROXY.replace('http://', ''))) {
    throw new Error(`${what} tried to reach the network:\n${result.stderr}`);
  }
  // cosign creates its TUF cache before fetching the public-good trust root: its presence means
  // this run wanted the network for trust material.
  if (existsSync(env.tufRoot)) throw new Error(`${what} initialised a TUF cache (it wanted the public trust root):\n${result.stderr}`);
  return result;
}

function registryFlags(registry: TestRegistry | undefined): string[] {
  return registry?.scheme === 'http' ? ['--allow-http-registry=true'] : [];
}

function annotationFlags(annotations: Readonly<Record<string, string>> | undefined): string[] {
  return Object.entries(annotations ?? {}).flatMap(([key, value]) => ['-a', `${key}=${value}`]);
}

/** `cosign generate-key-pair` (ECDSA P-256, empty password) into `<dir>/<name>.key|.pub`. */
export async function generateKeyPair(dir: string, version: CosignVersion, name = 'cosign'): Promise<CosignKeyPair> {
  const prefix = join(dir, name);
  const cosign = cosignEnv(undefined);
  try {
    await runChecked(cosignBinary(version), ['generate-key-pair', '--output-key-prefix', prefix], {
      env: cosign.env,
      cwd: dir,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
  } finally {
    cosign.remove();
  }
  return { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` };
}

export type OpensslKeyKind = 'p384' | 'p521' | 'rsa2048' | 'rsa3072' | 'ed25519';

/** A private key made by openssl (PKCS#8 PEM) at `<dir>/<name>.pem`, for `importKeyPair`. */
export async function makeOpensslKey(dir: string, kind: OpensslKeyKind, name: string): Promise<string> {
  const file = join(dir, `${name}.pem`);
  const algorithm: Readonly<Record<OpensslKeyKind, string[]>> = {
    p384: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384'],
    p521: ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'],
    rsa2048: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'],
    rsa3072: ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:3072'],
    ed25519: ['-algorithm', 'ED25519'],
  };
  await runChecked(toolPath('openssl'), ['genpkey', ...algorithm[kind], '-out', file], { timeoutMs: COMMAND_TIMEOUT_MS });
  return file;
}

/** `cosign import-key-pair --key FILE` into `<dir>/<name>.key|.pub`; rejects when cosign refuses the key. */
export async function importKeyPair(dir: string, pemFile: string, version: CosignVersion, name: string): Promise<CosignKeyPair> {
  const prefix = join(dir, name);
  const cosign = cosignEnv(undefined);
  try {
    await runChecked(cosignBinary(version), ['import-key-pair', '--key', pemFile, '--output-key-prefix', prefix], {
      env: cosign.env,
      cwd: dir,
      timeoutMs: COMMAND_TIMEOUT_MS,
    });
  } finally {
    cosign.remove();
  }
  return { privateKey: `${prefix}.key`, publicKey: `${prefix}.pub` };
}

export interface SignOptions {
  readonly cosign: CosignVersion;
  /** Full reference: `HOST/REPO@sha256:…` (or a tag, which cosign resolves). */
  readonly image: string;
  readonly key: CosignKeyPair;
  readonly registry: TestRegistry;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Where the signature is written (COSIGN_REPOSITORY), `HOST/REPO`. */
  readonly signatureRepository?: string;
  /** `legacy`: the `sha256-<hex>.sig` tag with simple-signing layers; `bundle`: a sigstore bundle
   * attached as an OCI referrer (the v3 default). Default: legacy for v2, bundle for v3. */
  readonly format?: 'legacy' | 'bundle';
  /** `--recursive`: a multi-platform index and each platform manifest it lists. */
  readonly recursive?: boolean;
}

/** Signs offline with `cosign sign --key`; rejects (quoting cosign's output) when cosign fails. */
export async function sign(options: SignOptions): Promise<CommandResult> {
  const format = options.format ?? (options.cosign === 2 ? 'legacy' : 'bundle');
  const args = [
    'sign',
    '--key', options.key.privateKey,
    '--tlog-upload=false',
    '--yes',
    `--new-bundle-format=${format === 'bundle' ? 'true' : 'false'}`,
    ...(options.cosign === 3 ? ['--use-signing-config=false'] : []),
    ...registryFlags(options.registry),
    ...annotationFlags(options.annotations),
    ...(options.recursive === true ? ['--recursive'] : []),
    options.image,
  ];
  const cosign = cosignEnv(options.registry, options.signatureRepository);
  try {
    const result = await runChecked(cosignBinary(options.cosign), args, { env: cosign.env, timeoutMs: COMMAND_TIMEOUT_MS });
    return assertStayedOnLoopback(result, cosign, `cosign v${options.cosign} sign`);
  } finally {
    cosign.remove();
  }
}

export interface VerifyOptions {
  readonly cosign: CosignVersion;
  readonly image: string;
  /** Path of the PEM public key. */
  readonly publicKey: string;
  readonly registry: TestRegistry;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Where signatures are looked up (COSIGN_REPOSITORY), `HOST/REPO`. */
  readonly signatureRepository?: string;
  /** `--signature-digest-algorithm` (cosign verify's hash; its default is sha256 for every key). */
  readonly signatureDigestAlgorithm?: 'sha256' | 'sha384' | 'sha512';
  /** Set over the clean environment (DOCKER_CONFIG, PATH for credential helpers). */
  readonly env?: Readonly<NodeJS.ProcessEnv>;
}

/** `cosign verify --key K --insecure-ignore-tlog=true IMAGE`; resolves with its exit code and output. */
export async function verify(options: VerifyOptions): Promise<CommandResult> {
  const cosign = cosignEnv(options.registry, options.signatureRepository);
  try {
    const args = ['verify', '--key', options.publicKey, '--insecure-ignore-tlog=true'];
    if (options.signatureDigestAlgorithm !== undefined) args.push('--signature-digest-algorithm', options.signatureDigestAlgorithm);
    if (options.cosign === 2) {
      const trustedRoot = join(cosign.dir, 'trusted_root.json');
      writeFileSync(trustedRoot, JSON.stringify(EMPTY_TRUSTED_ROOT));
      args.push('--trusted-root', trustedRoot);
    }
    args.push(...registryFlags(options.registry), ...annotationFlags(options.annotations), options.image);
    const result = await runCommand(cosignBinary(options.cosign), args, { env: { ...cosign.env, ...options.env }, timeoutMs: COMMAND_TIMEOUT_MS });
    return assertStayedOnLoopback(result, cosign, `cosign v${options.cosign} verify`);
  } finally {
    cosign.remove();
  }
}
