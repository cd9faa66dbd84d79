/**
 * The work one digest's signatures can cause is bounded (docs/design.md §4 "Bounded work"): each
 * distinct signature is checked once per authority, with the event loop given back between
 * checks and the deadline looked at before each; a replay of bad signatures costs no check;
 * every source is refused whole past its count or byte budget; failures listed are capped.
 */
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { SIGNATURE_LIMITS, signatureTag, referrersTag } from '../../src/cosign/index.js';
import { digestOf } from '../../src/crypto/hash.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { CheckCache } from '../../src/verify/check-cache.js';
import { checkSignature } from '../../src/verify/check.js';
import type { Authority } from '../../src/verify/types.js';
import { MAX_FAILURES_LISTED, Verifier } from '../../src/verify/verifier.js';
import { fixtureBytes, fixtureText, MemoryRegistry, repository, signatureManifest, type LayerSpec } from './cosign-fixtures.js';

const SUBJECT = fixtureText('legacy/tobby-fetch-cosign-v3.0.4/subject-digest.txt').trim();
const PAYLOAD = fixtureBytes('legacy/tobby-fetch-cosign-v3.0.4/payload.json');
const REPO = repository('registry.example.com/tenant/app');

function p384Authority(name: string): Authority {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
  return { name, key: parsePublicKey(publicKey.export({ type: 'spki', format: 'pem' }).toString()) };
}

/** A DER ECDSA signature of P-384 size that no key made: well formed, never valid. */
function forgedSignature(i: number): string {
  const r = Buffer.alloc(48, 0x11);
  const s = Buffer.alloc(48, 0x22);
  r.writeUInt32BE(i + 1, 40);
  const body = Buffer.concat([Buffer.from([0x02, 48]), r, Buffer.from([0x02, 48]), s]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64');
}

/** A `.sig` tag of `count` distinct forged signatures over the one real payload. */
function forgedRegistry(count: number): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.putBlob(PAYLOAD);
  const layers: LayerSpec[] = Array.from({ length: count }, (_, i) => ({
    mediaType: MEDIA_TYPE.simpleSigning,
    payload: PAYLOAD,
    annotations: { [ANNOTATION.signature]: forgedSignature(i) },
  }));
  registry.putManifest(REPO, signatureTag(SUBJECT), signatureManifest(layers));
  return registry;
}

function countingChecks(): { cache: CheckCache; calls: () => number } {
  let calls = 0;
  const cache = new CheckCache({
    max: 1000,
    maxBytes: 1024 * 1024,
    check: (...args) => {
      calls++;
      return checkSignature(...args);
    },
  });
  return { cache, calls: () => calls };
}

describe('bounded signature work', () => {
  it('gives the event loop back before every signature check', async () => {
    const count = 24;
    const verifier = new Verifier({ registry: forgedRegistry(count) });
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const [verdict] = await verifier.verifyDigest(REPO, SUBJECT, [p384Authority('tenant')]);
    running = false;
    expect(verdict?.verified).toBe(false);
    // A loop that checked every signature in one turn would let the ticker run about once.
    expect(turns).toBeGreaterThanOrEqual(count);
  });

  it('stops at the deadline between checks and rejects with DEADLINE_EXCEEDED', async () => {
    const controller = new AbortController();
    let calls = 0;
    const checks = new CheckCache({
      max: 1000,
      maxBytes: 1024 * 1024,
      check: (...args) => {
        if (++calls === 3) controller.abort();
        return checkSignature(...args);
      },
    });
    const verifier = new Verifier({ registry: forgedRegistry(40), checks });
    await expect(verifier.verifyDigest(REPO, SUBJECT, [p384Authority('tenant')], { signal: controller.signal })).rejects.toMatchObject({
      code: 'DEADLINE_EXCEEDED',
    });
    expect(calls).toBe(3);
  });

  it('checks a replayed manifest of bad signatures no second time', async () => {
    const registry = forgedRegistry(20);
    const authority = p384Authority('tenant');
    const { cache, calls } = countingChecks();
    const first = await new Verifier({ registry, checks: cache }).verifyDigest(REPO, SUBJECT, [authority]);
    expect(calls()).toBe(20);
    // A new verifier, as for a later review whose cached verdict expired.
    const replay = await new Verifier({ registry, checks: cache }).verifyDigest(REPO, SUBJECT, [authority]);
    expect(calls()).toBe(20);
    expect(replay).toEqual(first);
    expect(replay[0]?.failures[0]?.code).toBe('SIGNATURE_INVALID');
  });

  it('checks the same signatures again for another authority, however alike', async () => {
    const registry = forgedRegistry(5);
    const { cache, calls } = countingChecks();
    await new Verifier({ registry, checks: cache }).verifyDigest(REPO, SUBJECT, [p384Authority('a'), p384Authority('b')]);
    expect(calls()).toBe(10);
  });

  it(`lists at most ${MAX_FAILURES_LISTED} failures per authority and counts the rest`, async () => {
    const [verdict] = await new Verifier({ registry: forgedRegistry(30) }).verifyDigest(REPO, SUBJECT, [p384Authority('tenant')]);
    expect(verdict?.failures).toHaveLength(MAX_FAILURES_LISTED + 1);
    expect(verdict?.failures.at(-1)?.message).toBe(`and ${30 - MAX_FAILURES_LISTED} more signatures that did not verify`);
  });

  it('refuses a .sig tag of 1000 distinct forged signatures without checking one', async () => {
    const { cache, calls } = countingChecks();
    const [verdict] = await new Verifier({ registry: forgedRegistry(1000), checks: cache }).verifyDigest(REPO, SUBJECT, [p384Authority('t')]);
    expect(verdict?.verified).toBe(false);
    expect(verdict?.failures.map((f) => f.code)).toContain('TOO_MANY_SIGNATURES');
    expect(calls()).toBe(0);
  });
});

describe('bounded bundle discovery', () => {
  function indexOf(entries: readonly object[]): Uint8Array {
    return new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociIndex, manifests: entries }));
  }
  const entry = (i: number, artifactType?: string): object => ({
    mediaType: MEDIA_TYPE.ociManifest,
    digest: `sha256:${i.toString(16).padStart(64, '0')}`,
    size: 500,
    ...(artifactType ? { artifactType } : {}),
  });

  async function discoverFailures(registry: MemoryRegistry): Promise<string[]> {
    const [verdict] = await new Verifier({ registry }).verifyDigest(REPO, SUBJECT, [p384Authority('t')]);
    return verdict?.failures.map((f) => `${f.code}: ${f.message}`) ?? [];
  }

  it(`refuses a referrers listing of more than ${SIGNATURE_LIMITS.referrerEntries} entries before fetching any`, async () => {
    const registry = new MemoryRegistry();
    const many = Array.from({ length: SIGNATURE_LIMITS.referrerEntries + 1 }, (_, i) => entry(i, 'application/spdx+json'));
    registry.putManifest(REPO, referrersTag(SUBJECT), indexOf(many), MEDIA_TYPE.ociIndex);
    const failures = await discoverFailures(registry);
    expect(failures.some((f) => f.startsWith('TOO_MANY_SIGNATURES') && f.includes(`${SIGNATURE_LIMITS.referrerEntries + 1} referrers listed`))).toBe(true);
    expect(registry.manifestRequests.filter((r) => r.reference.startsWith('sha256:'))).toEqual([]);
  });

  it(`counts a referrer listed many times once, and refuses more than ${SIGNATURE_LIMITS.candidates} distinct ones`, async () => {
    const repeated = new MemoryRegistry();
    repeated.putManifest(REPO, referrersTag(SUBJECT), indexOf(Array.from({ length: 500 }, () => entry(1))), MEDIA_TYPE.ociIndex);
    await discoverFailures(repeated);
    expect(repeated.manifestRequests.filter((r) => r.reference.startsWith('sha256:'))).toHaveLength(1);

    const distinct = new MemoryRegistry();
    const entries = Array.from({ length: SIGNATURE_LIMITS.candidates + 1 }, (_, i) => entry(i));
    distinct.putManifest(REPO, referrersTag(SUBJECT), indexOf(entries), MEDIA_TYPE.ociIndex);
    const failures = await discoverFailures(distinct);
    expect(failures.some((f) => f.startsWith('TOO_MANY_SIGNATURES'))).toBe(true);
    expect(distinct.manifestRequests.filter((r) => r.reference.startsWith('sha256:'))).toEqual([]);
  });

  it('refuses bundles past the byte budget before fetching one', async () => {
    const registry = new MemoryRegistry();
    const referrers = Array.from({ length: 5 }, (_, i) => {
      const size = Math.ceil(SIGNATURE_LIMITS.sourceBytes / 5);
      const manifest = new TextEncoder().encode(JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPE.ociManifest,
        config: { mediaType: MEDIA_TYPE.ociEmpty, size: 2, digest: digestOf(new TextEncoder().encode('{}')) },
        layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', size, digest: `sha256:${(i + 1).toString(16).padStart(64, 'a')}` }],
      }));
      const digest = registry.putManifest(REPO, `referrer-${i}`, manifest);
      return { mediaType: MEDIA_TYPE.ociManifest, digest, size: manifest.length };
    });
    registry.putManifest(REPO, referrersTag(SUBJECT), indexOf(referrers), MEDIA_TYPE.ociIndex);
    const failures = await discoverFailures(registry);
    expect(failures.some((f) => f.startsWith('SIGNATURES_TOO_LARGE'))).toBe(true);
    expect(registry.blobRequests).toEqual([]);
  });
});
