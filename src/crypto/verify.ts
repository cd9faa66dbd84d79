import { SigwardError } from '../errors.js';
import { ecdsaVerifier } from './ecdsa.js';
import { ed25519Verifier, rsaVerifier } from './rsa-ed25519.js';
import type { PublicKey } from './types.js';

/** A verifier bound to one parsed key. */
export type Verifier = (message: Uint8Array, signature: Uint8Array) => boolean;

/** Parsed keys per PublicKey object, so repeated verifications do not parse the SPKI again. */
const verifiers = new WeakMap<PublicKey, Verifier>();

/**
 * Whether `signature` is `key`'s signature over exactly `message` (cosign-spec §1.4: ECDSA over
 * SHA-256 in DER, RSA PKCS#1 v1.5 SHA-256, Ed25519). A signature that does not verify, is
 * malformed, or was made with another key type gives false; only a key that cannot be used at
 * all throws (KEY_INVALID, KEY_UNSUPPORTED), because that is a configuration error, not a
 * property of the signature.
 */
export function verifySignature(key: PublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  const verifier = verifierFor(key);
  try {
    return verifier(message, signature);
  } catch {
    // Libraries throw on some malformed inputs (bad lengths, bad encodings): that is a
    // signature that does not verify.
    return false;
  }
}

function verifierFor(key: PublicKey): Verifier {
  const cached = verifiers.get(key);
  if (cached) return cached;
  const verifier = createVerifier(key);
  verifiers.set(key, verifier);
  return verifier;
}

function createVerifier(key: PublicKey): Verifier {
  const algorithm = key.algorithm;
  switch (algorithm) {
    case 'ecdsa-p256':
    case 'ecdsa-p384':
    case 'ecdsa-p521':
      return ecdsaVerifier({ ...key, algorithm });
    case 'rsa':
      return rsaVerifier(key);
    case 'ed25519':
      return ed25519Verifier(key);
    default: {
      // Fail closed on an algorithm this switch does not know (a key built outside parsePublicKey).
      const unknown: never = algorithm;
      throw new SigwardError('KEY_UNSUPPORTED', `unsupported key algorithm ${String(unknown)}`);
    }
  }
}
