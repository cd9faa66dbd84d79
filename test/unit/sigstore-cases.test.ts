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
import { CONFORMANCE_IDENTITY, EXPECTED_CODES, PUBLIC_GOOD_ROOT, TOBBY_SUBJECT, type BundleCase } from '../support/bundle-cases.js';
import { fixtureBytes, fixtureText, loadCases } from './cosign-fixtures.js';

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
