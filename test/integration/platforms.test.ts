/**
 * Multi-platform rules (spec.platforms) against images signed by the real cosign, on both
 * registries: an index signed as `cosign sign` signs it (the index digest only) and one signed
 * with `cosign sign --recursive` (the index and each platform manifest), decided by `sigward
 * check` under each mode: index, every, listed (present and missing platforms), and a platform
 * manifest named as `repo:tag@digest` with and without acceptChildOfSignedIndex.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { stringify } from 'yaml';
import { generateKeyPair, sign, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { pushIndex, pushRandomImage, type PushedManifest } from '../support/images.js';
import { makeTempDir } from '../support/process.js';
import { startCraneRegistry, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { policyDocument } from '../support/serve.js';
import { runSigward } from '../support/sigward.js';

const scratch = makeTempDir('platforms');
let signer: CosignKeyPair;
const registries: TestRegistry[] = [];

interface Pushed {
  readonly index: PushedManifest;
  readonly amd64: PushedManifest;
  readonly arm64: PushedManifest;
}

beforeAll(async () => {
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  registries.push(await startDistributionRegistry({ tls: true }), await startCraneRegistry());
}, 120_000);

afterAll(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  await closeRegistryAgents();
  scratch.remove();
});

async function pushMultiPlatform(registry: TestRegistry, repo: string, recursive: boolean): Promise<Pushed> {
  const amd64 = await pushRandomImage(registry, repo, 'amd64', { os: 'linux', architecture: 'amd64' });
  const arm64 = await pushRandomImage(registry, repo, 'arm64', { os: 'linux', architecture: 'arm64' });
  const index = await pushIndex(registry, repo, 'v1', [amd64, arm64]);
  await sign({ cosign: 2, image: `${registry.host}/${repo}@${index.digest}`, key: signer, registry, recursive });
  return { index, amd64, arm64 };
}

let files = 0;
/** `sigward check` of a Pod naming `image` under one policy with `platforms`; the exit code and output. */
async function check(registry: TestRegistry, image: string, platforms: Record<string, unknown> | undefined) {
  const policy = policyDocument({ name: 'platforms', images: [`${registry.host}/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] });
  if (platforms !== undefined) (policy.spec as Record<string, unknown>).platforms = platforms;
  const n = ++files;
  const policyFile = join(scratch.dir, `policy-${n}.yaml`);
  const podFile = join(scratch.dir, `pod-${n}.yaml`);
  writeFileSync(policyFile, stringify(policy));
  writeFileSync(podFile, stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'app', image }] } }));
  const flags = registry.scheme === 'http' ? ['--insecure-registry', registry.host] : ['--ca-file', registry.caFile!];
  return runSigward(['check', '--policy-file', policyFile, podFile, ...flags]);
}

describe.each([['distribution (TLS)', 0], ['go-containerregistry', 1]])('on %s', (_name, at) => {
  let registry: TestRegistry;
  let plain: Pushed;
  let recursive: Pushed;
  const tagged = (repo: string): string => `${registry.host}/${repo}:v1`;

  beforeAll(async () => {
    registry = registries[at]!;
    plain = await pushMultiPlatform(registry, 'platforms/plain', false);
    recursive = await pushMultiPlatform(registry, 'platforms/recursive', true);
  }, 120_000);

  it('index (the default): both pass, as the index digest is signed either way', async () => {
    expect((await check(registry, tagged('platforms/plain'), undefined)).code).toBe(0);
    expect((await check(registry, tagged('platforms/recursive'), { mode: 'index' })).code).toBe(0);
  });

  it('every: only the recursively signed image passes, and the deny names the unsigned platforms', async () => {
    const denied = await check(registry, tagged('platforms/plain'), { mode: 'every' });
    expect(denied.code).toBe(1);
    expect(denied.stdout + denied.stderr).toContain(`platform linux/amd64 (${plain.amd64.digest})`);
    expect((await check(registry, tagged('platforms/recursive'), { mode: 'every' })).code).toBe(0);
  });

  it('listed: the listed platforms must exist and verify', async () => {
    expect((await check(registry, tagged('platforms/recursive'), { mode: 'listed', list: ['linux/arm64'] })).code).toBe(0);
    expect((await check(registry, tagged('platforms/plain'), { mode: 'listed', list: ['linux/arm64'] })).code).toBe(1);
    const missing = await check(registry, tagged('platforms/recursive'), { mode: 'listed', list: ['linux/arm64', 'linux/s390x'] });
    expect(missing.code).toBe(1);
    expect(missing.stdout + missing.stderr).toContain('PLATFORM_MISSING platform linux/s390x is not in the image');
  });

  it('a platform manifest named by digest: verified at that digest, or through its tag\'s signed index when the policy says so', async () => {
    const child = `${registry.host}/platforms/plain:v1@${plain.amd64.digest}`;
    expect((await check(registry, child, undefined)).code).toBe(1);
    expect((await check(registry, child, { acceptChildOfSignedIndex: true })).code).toBe(0);
    expect((await check(registry, `${registry.host}/platforms/plain@${plain.amd64.digest}`, { acceptChildOfSignedIndex: true })).code).toBe(1);
    expect((await check(registry, `${registry.host}/platforms/recursive@${recursive.arm64.digest}`, undefined)).code).toBe(0);
  });
});
