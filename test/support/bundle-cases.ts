/**
 * The Sigstore bundle cases of test/fixtures/cases.json, and what each must give: shared by the
 * library-level test (test/unit/sigstore-cases.test.ts) and the `verify-blob` one.
 */
import type { ErrorCode } from '../../src/errors.js';
import { fixtureText } from '../unit/cosign-fixtures.js';

/** The bundle fields of cases.json (see the fixtures' PROVENANCE.md). */
export interface BundleCase {
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
export const CONFORMANCE_IDENTITY = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
};
export const PUBLIC_GOOD_ROOT = 'bundles/trusted-roots/sigstore-go-testing-public-good.json';
/** cosign v3.0.4 signed this image index (the referring manifest's subject). */
export const TOBBY_SUBJECT = (JSON.parse(fixtureText('bundles/tobby-fetch-cosign-v3.0.4-key/bundle-referring-manifest.json')) as {
  subject: { digest: string };
}).subject.digest;

/** Why each failing case fails: the code sigward must give, so a case cannot pass by failing for another reason. */
export const EXPECTED_CODES: Readonly<Record<string, ErrorCode>> = {
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

