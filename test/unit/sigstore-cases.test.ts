import { describe, expect, it } from '@jest/globals';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { errorCode, type ErrorCode } from '../../src/errors.js';
import {
  parseBundle,
  parseTrustedRoot,
  verifyArtifactBundle,
  verifyImageBundle,
  type BundleAuthority,
  type TrustedRoot,
} from '../../src/sigstore/index.js';
import { fixtureBytes, fixtureText, loadCases } from './cosign-fixtures.js';

/** The bundle fields of cases.json (see the fixtures' PROVENANCE.md). */
interface BundleCase {
  readonly id: string;
  readonly kind: string;
  readonly expect: 'pass' | 'fail';
  readonly bundle: string;
  readonly publicKey?: string;
  readonly trustedRoot?: string;
  readonly artifact?: string;
  readonly subjectDigest?: string;
  readonly referringManifest?: string;
}

/** The conformance suite's default keyless identity (its README) and the public-good root it assumes. */
const CONFORMANCE_IDENTITY = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
};
const PUBLIC_GOOD_ROOT = 'bundles/trusted-roots/sigstore-go-testing-public-good.json';
/** cosign v3.0.4 signed this image index (the referring manifest's subject). */
const TOBBY_SUBJECT = (JSON.parse(fixtureText('bundles/tobby-fetch-cosign-v3.0.4-key/bundle-referring-manifest.json')) as {
  subject: { digest: string };
}).subject.digest;

/** Why each failing case fails: the code sigward must give, so a case cannot pass by failing for another reason. */
const EXPECTED_CODES: Readonly<Record<string, ErrorCode>> = {
  'tf-bundle-wrong-key': 'SIGNATURE_INVALID',
  'tf-bundle-wrong-subject': 'CLAIM_MISMATCH',
  'conf-bundle-invalid-base64-signature_fail': 'BUNDLE_INVALID',
  'conf-checkpoint-wrong-roothash_fail': 'INCLUSION_PROOF_INVALID',
  'conf-dsse-invalid-sig_fail': 'SIGNATURE_INVALID',
  'conf-dsse-mismatch-sig_fail': 'TLOG_ENTRY_MISMATCH',
  'conf-inclusion-proof-corrupted-hash_fail': 'INCLUSION_PROOF_INVALID',
  // The modified key is inside the logged body, so the SET no longer verifies.
  'conf-incorrect-public-key_fail': 'TLOG_INVALID',
  // A v0.2 bundle whose stale proof comes without a checkpoint (protobuf-specs requires one).
  'conf-invalid-inclusion-proof_fail': 'BUNDLE_INVALID',
  'conf-managed-key-no-key_fail': 'CERTIFICATE_INVALID',
  // Its key.pub is not a key: the policy would be refused before any bundle is read.
  'conf-managed-key-wrong-key_fail': 'KEY_INVALID',
  'conf-message-digest-mismatch_fail': 'CLAIM_MISMATCH',
  'conf-set-invalid-signature_fail': 'TLOG_INVALID',
  'conf-signature-mismatch_fail': 'SIGNATURE_INVALID',
  'conf-wrong-hashedrekord-entry_fail': 'TLOG_ENTRY_MISMATCH',
};

const roots = new Map<string, TrustedRoot>();
function trustedRoot(path: string): TrustedRoot {
  const cached = roots.get(path);
  if (cached) return cached;
  const root = parseTrustedRoot(fixtureText(path));
  roots.set(path, root);
  return root;
}

/**
 * The authority a case names: its public key (verified against the case's trusted root, as
 * the conformance suite verifies managed keys with a log), else the keyless identity.
 */
function authorityOf(c: BundleCase): BundleAuthority {
  const root = trustedRoot(c.trustedRoot ?? PUBLIC_GOOD_ROOT);
  if (c.publicKey) return { kind: 'key', key: parsePublicKey(fixtureText(c.publicKey)), rekor: root };
  if (c.id === 'cosign-oci-attestation-keyless') {
    // The identity cosign's own test signed with (its certificate's SAN and issuer extension).
    return { kind: 'keyless', issuer: 'https://github.com/login/oauth', subject: 'cody@soyland.com', trustedRoot: root };
  }
  return { kind: 'keyless', ...CONFORMANCE_IDENTITY, trustedRoot: root };
}

/** Image bundles are verified at their image digest; conformance bundles against their artifact. */
function verifyCase(c: BundleCase): void {
  if (c.kind === 'sigstore-conformance bundle') {
    const bundle = parseBundle(fixtureBytes(c.bundle), { minVersion: '0.1' });
    verifyArtifactBundle(bundle, fixtureBytes(c.artifact!), authorityOf(c));
    return;
  }
  const bundle = parseBundle(fixtureBytes(c.bundle));
  const predicateType = c.id === 'cosign-oci-attestation-keyless' ? 'https://cosign.sigstore.dev/attestation/v1' : undefined;
  verifyImageBundle(bundle, { digest: c.subjectDigest ?? TOBBY_SUBJECT, ...(predicateType ? { predicateType } : {}) }, authorityOf(c));
}

function outcome(c: BundleCase): ErrorCode | 'VERIFIED' {
  try {
    verifyCase(c);
    return 'VERIFIED';
  } catch (err) {
    return errorCode(err);
  }
}

const cases = (loadCases() as unknown as (BundleCase | { bundle?: undefined })[]).filter(
  (c): c is BundleCase => c.bundle !== undefined,
);

describe('sigstore bundles of cases.json', () => {
  it('covers every bundle case (3 cosign v3 key, 1 keyless attestation, 21 conformance)', () => {
    expect(cases).toHaveLength(25);
    expect(cases.filter((c) => c.kind === 'sigstore-conformance bundle')).toHaveLength(21);
  });

  describe.each(cases.filter((c) => c.expect === 'pass'))('when case $id is verified', (c) => {
    it('verifies', () => {
      expect(outcome(c)).toBe('VERIFIED');
    });
  });

  describe.each(cases.filter((c) => c.expect === 'fail'))('when case $id is verified', (c) => {
    it(`rejects with ${EXPECTED_CODES[c.id] ?? '(no code recorded)'}`, () => {
      expect(EXPECTED_CODES[c.id]).toBeDefined();
      expect(outcome(c)).toBe(EXPECTED_CODES[c.id]);
    });
  });
});
