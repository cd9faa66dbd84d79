/** Signature discovery (the legacy `.sig` tag) and the checks cosign makes on what it finds. */
export { referrersTag, signatureTag } from './tag.js';
export { discoverBundles, MAX_BUNDLE_BYTES } from './referrers.js';
export { discoverLegacySignatures, MAX_PAYLOAD_BYTES } from './discover.js';
export { discoverLegacyAttestations, MAX_ATTESTATION_BYTES } from './attestations.js';
export { SIGNATURE_LIMITS } from './limits.js';
export { verifyLegacySignature, type LegacyExpectation } from './legacy.js';
export { parseSimpleSigningPayload } from './payload.js';
export type { LegacyDiscovery, SignatureCandidate, SignatureFailure, SimpleSigningPayload, VerifiedSignature } from './types.js';
