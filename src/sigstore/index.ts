/** Verification of sigstore bundles (cosign v3) and keyless signatures: the only @sigstore/* importer. */
export { parseBundle, type ParseBundleOptions } from './bundle.js';
export { parseTrustedRoot } from './trusted-root.js';
export { SHIPPED_TRUSTED_ROOT_FILE, shippedTrustedRoot } from './shipped-root.js';
export { subjectPattern } from './identity.js';
export { verifyArtifactBundle, verifyArtifactDigestBundle, verifyImageBundle } from './verify.js';
export type {
  BundleAuthority,
  BundleProof,
  BundleSigner,
  ExpectedImage,
  InTotoStatement,
  KeyAuthority,
  KeylessAuthority,
  RekorTrust,
  SigstoreBundle,
  TrustedRoot,
  VerifiedArtifact,
  VerifiedBundle,
} from './types.js';
export { legacyAttestationBundle, verifyLegacyKeyless, verifyLegacyTransparency, type LegacyKeylessSignature } from './legacy.js';
