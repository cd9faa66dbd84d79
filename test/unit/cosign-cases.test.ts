/**
 * Every recorded legacy case of cases.json, end to end through the legacy path: the signature
 * manifest served at `sha256-<hex>.sig`, discovery, then the key check and the claim checks.
 */
import { describe, expect, it } from '@jest/globals';
import { discoverLegacySignatures, signatureTag, verifyLegacySignature } from '../../src/cosign/index.js';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { digestOf } from '../../src/crypto/hash.js';
import { errorCode } from '../../src/errors.js';
import {
  fixtureBytes,
  fixtureText,
  legacyCases,
  MemoryRegistry,
  readStoredSignature,
  repository,
  signatureManifest,
  type FixtureCase,
  type LayerSpec,
} from './cosign-fixtures.js';

type Outcome = 'verified' | 'not-a-signature' | ReturnType<typeof errorCode>;

/**
 * What sigward's key path concludes for each case. Keyless and certificate cases carry no key;
 * they are checked against a key that did not make them, which must refuse them.
 * `ci-key-rekor-set-wrong-rekor-key` fails in cases.json only because its Rekor SET is checked
 * against a non-Rekor key; a plain key authority verifies offline (docs/design.md §4, like
 * `cosign verify --insecure-ignore-tlog`), so without a Rekor key the signature itself verifies.
 */
const OUTCOMES: Readonly<Record<string, Outcome>> = {
  'ci-valid': 'verified',
  'ci-valid-2-sig2': 'verified',
  'ci-key-rekor-valid': 'verified',
  'rs-busybox': 'verified',
  'rs-suse-rsa': 'verified',
  'tf-cosign-v3.0.4-legacy': 'verified',
  'ci-valid-with-tag': 'verified',
  'ci-fulcio-rekor-valid': 'SIGNATURE_INVALID',
  'ci-pki-valid': 'SIGNATURE_INVALID',
  'rs-kubewarden-keyless': 'SIGNATURE_INVALID',
  'ci-valid-wrong-key': 'SIGNATURE_INVALID',
  'ci-valid-tampered': 'SIGNATURE_INVALID',
  'ci-unknown-key': 'SIGNATURE_INVALID',
  'ci-modified-manifest': 'CLAIM_MISMATCH',
  'ci-manifest-digest-error': 'CLAIM_MISMATCH',
  'ci-other-attachment': 'not-a-signature',
  'ci-key-rekor-wrong-key': 'SIGNATURE_INVALID',
  'ci-key-rekor-set-wrong-rekor-key': 'verified',
  'rs-busybox-wrong-key': 'SIGNATURE_INVALID',
  'rs-busybox-wrong-msg': 'SIGNATURE_INVALID',
  'rs-busybox-digest-mismatch': 'CLAIM_MISMATCH',
  'tf-legacy-wrong-key': 'SIGNATURE_INVALID',
};
const TLOG_ONLY_FAILURES = new Set(['ci-key-rekor-set-wrong-rekor-key']);
const FOREIGN_KEY = 'legacy/containers-image/cosign.pub';

/** The stored containers/image signature a case's extracted payload came from, if any. */
function storedSignaturePath(c: FixtureCase): string | undefined {
  const extracted = /^legacy\/containers-image\/extracted\/(.+)\.(signature-\d)\.payload\.(?:json|bin)$/.exec(c.payload ?? '');
  if (extracted) return `legacy/containers-image/dir-img-cosign-${extracted[1]!}/${extracted[2]!}`;
  if (c.payload === 'legacy/containers-image/extracted/unknown-cosign-key.payload.json') {
    return 'legacy/containers-image/unknown-cosign-key.signature';
  }
  return undefined;
}

/** The signature layer of a case: the real stored one where it exists, else built from its files. */
function caseLayer(c: FixtureCase): LayerSpec {
  if (c.id === 'rs-busybox-wrong-msg') {
    const signature = fixtureText(c.signatureB64!).trim();
    return { mediaType: MEDIA_TYPE.simpleSigning, payload: new TextEncoder().encode('hello world'), annotations: { [ANNOTATION.signature]: signature } };
  }
  const stored = storedSignaturePath(c);
  const layer: LayerSpec = stored
    ? readStoredSignature(stored)
    : {
        mediaType: MEDIA_TYPE.simpleSigning,
        payload: fixtureBytes(c.payload!),
        annotations: { [ANNOTATION.signature]: fixtureText(c.signatureB64!).trim() },
      };
  if (c.payload) expect(Buffer.from(layer.payload).equals(Buffer.from(fixtureBytes(c.payload)))).toBe(true);
  if (c.id === 'ci-valid-tampered') {
    const tampered = new TextDecoder().decode(layer.payload).replace('"optional":null', '"optional":{}');
    return { ...layer, payload: new TextEncoder().encode(tampered) };
  }
  return layer;
}

/** The digest being admitted: the image manifest's, else the one the case names, else the payload's own claim. */
function admittedDigest(c: FixtureCase, payload: Uint8Array): string {
  if (c.imageManifest) return digestOf(fixtureBytes(c.imageManifest));
  if (c.expectedDigest) return c.expectedDigest;
  try {
    const doc = JSON.parse(new TextDecoder().decode(payload)) as { critical: { image: { 'docker-manifest-digest': string } } };
    return doc.critical.image['docker-manifest-digest'];
  } catch {
    return digestOf(payload);
  }
}

async function runCase(c: FixtureCase): Promise<Outcome> {
  const registry = new MemoryRegistry();
  const repo = repository('192.168.64.2:5000/cosign-signed-single-sample');
  const layer = caseLayer(c);
  const digest = admittedDigest(c, layer.payload);
  const manifest = c.signatureManifest ? fixtureBytes(c.signatureManifest) : signatureManifest([layer]);
  registry.putManifest(repo, signatureTag(digest), manifest);
  registry.putBlob(layer.payload);

  const found = await discoverLegacySignatures(registry, repo, digest);
  expect(found.failures).toEqual([]);
  if (found.candidates.length === 0) return 'not-a-signature';
  expect(found.candidates).toHaveLength(1);
  const key = parsePublicKey(fixtureText(c.publicKey ?? FOREIGN_KEY));
  try {
    const verified = verifyLegacySignature(found.candidates[0]!, key, { digest });
    expect(Buffer.from(verified.payload).equals(Buffer.from(layer.payload))).toBe(true);
    return 'verified';
  } catch (err) {
    return errorCode(err);
  }
}

describe('the legacy key path over the recorded cases', () => {
  const cases = legacyCases();

  it('has an expected outcome for every legacy case, and no stale ones', () => {
    expect(cases.map((c) => c.id).sort()).toEqual(Object.keys(OUTCOMES).sort());
  });

  it('agrees with each case label, except where the label is about the transparency log', () => {
    for (const c of cases) {
      const verifies = OUTCOMES[c.id] === 'verified';
      const labelled = c.expect === 'pass' && !c.kind.includes('keyless') && !c.kind.includes('cert');
      expect([c.id, verifies]).toEqual([c.id, TLOG_ONLY_FAILURES.has(c.id) ? !labelled : labelled]);
    }
  });

  it.each(cases.map((c) => [c.id, OUTCOMES[c.id], c] as const))('%s: %s', async (_id, outcome, c) => {
    expect(await runCase(c)).toBe(outcome);
  });
});

describe('the real multi-signature manifests', () => {
  const cosignPub = parsePublicKey(fixtureText('legacy/containers-image/cosign.pub'));
  const imageDigest = digestOf(fixtureBytes('legacy/containers-image/dir-img-cosign-valid/manifest.json'));

  async function discover(dir: string, files: string[]) {
    const registry = new MemoryRegistry();
    const repo = repository('192.168.64.2:5000/cosign-signed-single-sample');
    const layers = files.map((file) => readStoredSignature(`legacy/containers-image/${dir}/${file}`));
    for (const layer of layers) registry.putBlob(layer.payload);
    registry.putManifest(repo, signatureTag(imageDigest), signatureManifest(layers));
    return discoverLegacySignatures(registry, repo, imageDigest);
  }

  function outcomes(candidates: Awaited<ReturnType<typeof discover>>['candidates']): string[] {
    return candidates.map((candidate) => {
      try {
        verifyLegacySignature(candidate, cosignPub, { digest: imageDigest });
        return 'verified';
      } catch (err) {
        return errorCode(err);
      }
    });
  }

  describe('when one manifest holds two signatures by the same key', () => {
    it('verifies both', async () => {
      const found = await discover('dir-img-cosign-valid-2', ['signature-1', 'signature-2']);
      expect(outcomes(found.candidates)).toEqual(['verified', 'verified']);
    });
  });

  describe('when one of two signatures was made by an unknown key', () => {
    it('rejects that one with SIGNATURE_INVALID and still verifies the other', async () => {
      const found = await discover('dir-img-cosign-mixed', ['signature-1', 'signature-2']);
      expect(outcomes(found.candidates)).toEqual(['SIGNATURE_INVALID', 'verified']);
    });
  });
});
