/** Keys, hashes and signature verification: the only module that touches @noble/curves. */
export { parsePublicKey } from './keys.js';
export { verifySignature } from './verify.js';
export { digestOf, sha256Hex } from './hash.js';
export type { KeyAlgorithm, PublicKey } from './types.js';
