import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { MEDIA_TYPE } from '../../src/constants.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { INDEX_RULE, type PlatformRule } from '../../src/policy/platforms.js';
import { parseReference } from '../../src/reference/index.js';
import type { Authority } from '../../src/verify/types.js';
import { Verifier } from '../../src/verify/verifier.js';
import { MemoryRegistry, repository, signDigest } from './cosign-fixtures.js';

const REPO = repository('registry.example.com/acme/app');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const AUTHORITY: Authority = { name: 'release', key: parsePublicKey(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString()) };
const bytes = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));

/** A platform manifest with a config blob naming its platform. */
function platformManifest(registry: MemoryRegistry, os: string, architecture: string, tag = `${os}-${architecture}`) {
  const config = bytes({ os, architecture, nonce: randomBytes(8).toString('hex') });
  const configDigest = registry.putBlob(config);
  const manifest = bytes({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: config.length }, layers: [] });
  return { digest: registry.putManifest(REPO, tag, manifest), size: manifest.length, platform: { os, architecture } };
}

function setup(signed: { index?: boolean; amd64?: boolean; arm64?: boolean } = {}) {
  const registry = new MemoryRegistry();
  const amd64 = platformManifest(registry, 'linux', 'amd64');
  const arm64 = platformManifest(registry, 'linux', 'arm64');
  const attestation = platformManifest(registry, 'unknown', 'unknown');
  const entry = (m: { digest: string; size: number; platform: { os: string; architecture: string } }, annotations?: Record<string, string>) =>
    ({ mediaType: MEDIA_TYPE.ociManifest, digest: m.digest, size: m.size, platform: m.platform, ...(annotations === undefined ? {} : { annotations }) });
  const index = registry.putManifest(REPO, 'v1', bytes({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: [
    entry(amd64), entry(arm64), entry(attestation, { 'vnd.docker.reference.type': 'attestation-manifest' }),
  ] }), MEDIA_TYPE.ociIndex);
  if (signed.index === true) signDigest(registry, REPO, index, keys.privateKey);
  if (signed.amd64 === true) signDigest(registry, REPO, amd64.digest, keys.privateKey);
  if (signed.arm64 === true) signDigest(registry, REPO, arm64.digest, keys.privateKey);
  const verifier = new Verifier({ registry, digests: new TtlCache<string, string>({ max: 100, ttlMs: 60_000 }) });
  const check = async (rule: PlatformRule, reference = `${REPO.name}:v1`) => {
    const ref = parseReference(reference);
    const digest = await verifier.resolve(ref);
    const [verdict] = await verifier.verifyForPolicy(ref, digest, rule, [AUTHORITY]);
    return verdict!;
  };
  return { registry, index, amd64, arm64, check };
}

const EVERY: PlatformRule = { mode: 'every' };
const listed = (...platforms: string[]): PlatformRule => ({ mode: 'listed', list: platforms.map((p) => { const [os, architecture] = p.split('/'); return { os: os!, architecture: architecture! }; }) });

describe('platforms: index (the default)', () => {
  it('accepts a signature on the index alone, as cosign sign makes it', async () => {
    expect((await setup({ index: true }).check(INDEX_RULE)).verified).toBe(true);
  });

  it('does not accept platform signatures in place of the index\'s', async () => {
    expect((await setup({ amd64: true, arm64: true }).check(INDEX_RULE)).verified).toBe(false);
  });
});

describe('platforms: every', () => {
  it('needs every platform manifest signed, naming each one that is not, and skips attestation entries', async () => {
    const onlyIndex = await setup({ index: true }).check(EVERY);
    expect(onlyIndex.verified).toBe(false);
    expect(onlyIndex.failures.map((f) => f.message.split(':')[0])).toEqual(['platform linux/amd64 (sha256', 'platform linux/arm64 (sha256']);
    const half = await setup({ index: true, amd64: true }).check(EVERY);
    expect(half.failures.map((f) => f.message)).toEqual([expect.stringMatching(/^platform linux\/arm64 \(sha256:[0-9a-f]{64}\): no signatures found/)]);
    const all = await setup({ index: true, amd64: true, arm64: true }).check(EVERY);
    expect(all.verified).toBe(true);
    expect(all.signatures).toHaveLength(2);
  });

  it('verifies a single-platform image at its own digest', async () => {
    const { amd64, registry, check } = setup();
    signDigest(registry, REPO, amd64.digest, keys.privateKey);
    expect((await check(EVERY, `${REPO.name}:linux-amd64`)).verified).toBe(true);
  });
});

describe('platforms: listed', () => {
  it('needs just the listed platforms signed', async () => {
    expect((await setup({ arm64: true }).check(listed('linux/arm64'))).verified).toBe(true);
    expect((await setup({ arm64: true }).check(listed('linux/arm64', 'linux/amd64'))).verified).toBe(false);
  });

  it('fails with PLATFORM_MISSING for a listed platform the index does not have', async () => {
    const verdict = await setup({ index: true, amd64: true, arm64: true }).check(listed('linux/arm64', 'linux/s390x'));
    expect(verdict.verified).toBe(false);
    expect(verdict.failures).toEqual([{ code: 'PLATFORM_MISSING', message: 'platform linux/s390x is not in the image' }]);
  });

  it('reads a single-platform image\'s platform from its config', async () => {
    const { amd64, registry, check } = setup();
    signDigest(registry, REPO, amd64.digest, keys.privateKey);
    expect((await check(listed('linux/amd64'), `${REPO.name}:linux-amd64`)).verified).toBe(true);
    const other = await check(listed('linux/arm64'), `${REPO.name}:linux-amd64`);
    expect(other.failures).toEqual([{ code: 'PLATFORM_MISSING', message: 'platform linux/arm64 is not in the image' }]);
  });
});

describe('platforms: index with acceptChildOfSignedIndex', () => {
  const accept: PlatformRule = { mode: 'index', acceptChildOfSignedIndex: true };

  it('accepts a platform manifest named with its tag when that tag\'s signed index lists it', async () => {
    const { amd64, check } = setup({ index: true });
    expect((await check(INDEX_RULE, `${REPO.name}:v1@${amd64.digest}`)).verified).toBe(false);
    expect((await check(accept, `${REPO.name}:v1@${amd64.digest}`)).verified).toBe(true);
  });

  it('does not accept it without a tag, or when the tag\'s index does not list it, or is unsigned', async () => {
    const { amd64, registry, check } = setup({ index: true });
    expect((await check(accept, `${REPO.name}@${amd64.digest}`)).verified).toBe(false);
    const stray = registry.putManifest(REPO, 'stray', bytes({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, config: {}, layers: [], n: 1 }));
    const unlisted = await check(accept, `${REPO.name}:v1@${stray}`);
    expect(unlisted.verified).toBe(false);
    expect(unlisted.failures.at(-1)?.message).toContain('does not list');
    const unsignedIndex = setup();
    expect((await unsignedIndex.check(accept, `${REPO.name}:v1@${unsignedIndex.amd64.digest}`)).verified).toBe(false);
  });
});

describe('an index a registry makes too large', () => {
  it('is refused whole under every, listed and acceptChildOfSignedIndex, before any platform is checked', async () => {
    const registry = new MemoryRegistry();
    const entries = Array.from({ length: 65 }, (_, i) => {
      const m = platformManifest(registry, 'linux', `arch${i}`);
      return { mediaType: MEDIA_TYPE.ociManifest, digest: m.digest, size: m.size, platform: m.platform };
    });
    const index = registry.putManifest(REPO, 'huge', bytes({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: entries }), MEDIA_TYPE.ociIndex);
    const verifier = new Verifier({ registry, digests: new TtlCache<string, string>({ max: 100, ttlMs: 60_000 }) });
    const ref = parseReference(`${REPO.name}:huge`);
    for (const rule of [EVERY, listed('linux/arch1')]) {
      await expect(verifier.verifyForPolicy(ref, index, rule, [AUTHORITY])).rejects.toMatchObject({ code: 'TOO_MANY_PLATFORMS' });
    }
    expect(registry.manifestRequests.filter((r) => r.reference.endsWith('.sig'))).toEqual([]);
  });
});
