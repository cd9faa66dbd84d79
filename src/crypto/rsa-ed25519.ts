import { constants, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { SigwardError } from '../errors.js';
import type { PublicKey } from './types.js';
import type { Verifier } from './verify.js';

const ED25519_SIGNATURE_BYTES = 64;
const MIN_RSA_BITS = 2048;

/**
 * RSA as `cosign verify --key` loads it (cosign-spec §1.4): PKCS#1 v1.5 padding over SHA-256.
 * PSS is not accepted: cosign uses it only when asked explicitly, and a policy cannot ask.
 */
export function rsaVerifier(key: PublicKey): Verifier {
  const keyObject = nodeKey(key, 'rsa');
  // parsePublicKey refuses these already; checked again for keys built from certificates.
  const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS) {
    throw new SigwardError('KEY_UNSUPPORTED', `rsa key ${key.id}: ${bits} bits is too short (${MIN_RSA_BITS} at least)`);
  }
  return (message, signature) =>
    verify('sha256', message, { key: keyObject, padding: constants.RSA_PKCS1_PADDING }, signature);
}

/**
 * Ed25519: pure Ed25519 (cosign `sign-blob` without a transparency log) through node:crypto,
 * then Ed25519ph (cosign's default for images, RFC 8032 §5.1 with SHA-512 prehash) through
 * @noble/curves. The two are domain-separated, so a signature valid under one is never a
 * signature under the other by accident.
 */
export function ed25519Verifier(key: PublicKey): Verifier {
  const keyObject = nodeKey(key, 'ed25519');
  const raw = Buffer.from(keyObject.export({ format: 'jwk' }).x ?? '', 'base64url');
  if (raw.length !== 32) {
    throw new SigwardError('KEY_INVALID', `ed25519 key ${key.id}: not a 32-byte public key`);
  }
  const publicKey = new Uint8Array(raw);
  return (message, signature) => {
    if (signature.length !== ED25519_SIGNATURE_BYTES) return false;
    if (verify(null, message, keyObject, signature)) return true;
    // zip215: false = RFC 8032 strict decoding (canonical encodings only), as Go's crypto/ed25519.
    return ed25519ph.verify(signature, message, publicKey, { zip215: false });
  };
}

function nodeKey(key: PublicKey, type: 'rsa' | 'ed25519'): KeyObject {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
  } catch (err) {
    throw new SigwardError('KEY_INVALID', `${key.algorithm} key ${key.id}: not a usable public key`, { cause: err });
  }
  if (keyObject.asymmetricKeyType !== type) {
    throw new SigwardError(
      'KEY_INVALID',
      `${key.algorithm} key ${key.id}: SPKI holds a ${keyObject.asymmetricKeyType ?? 'unknown'} key`,
    );
  }
  return keyObject;
}
