/** Signature discovery (the legacy `.sig` tag) and the checks cosign makes on what it finds. */
export { signatureTag } from './tag.js';
export { discoverLegacySignatures, MAX_PAYLOAD_BYTES } from './discover.js';
export { verifyLegacySignature, type LegacyExpectation } from './legacy.js';
export { parseSimpleSigningPayload } from './payload.js';
export type { LegacyDiscovery, SignatureCandidate, SignatureFailure, SimpleSigningPayload, VerifiedSignature } from './types.js';
