import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { SigwardError } from '../errors.js';
import type { KeyAlgorithm, PublicKey } from './types.js';

const PEM_BLOCK = /-----BEGIN ((?:RSA |EC )?PUBLIC KEY)-----([\s\S]*?)-----END \1-----/;
const CURVES: Record<string, KeyAlgorithm> = {
  prime256v1: 'ecdsa-p256',
  secp384r1: 'ecdsa-p384',
  secp521r1: 'ecdsa-p521',
};

/**
 * Parses one PEM public key (`PUBLIC KEY` SPKI, or PKCS#1 `RSA PUBLIC KEY` as cosign also
 * accepts). Throws KEY_INVALID for anything that is not a public key (a private key, a
 * certificate, garbage) and KEY_UNSUPPORTED for a key type sigward cannot verify with.
 */
export function parsePublicKey(pem: string): PublicKey {
  const block = PEM_BLOCK.exec(pem);
  if (!block) {
    // cosign.key next to cosign.pub is the usual slip; say which one is wanted.
    if (/-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(pem)) {
      throw new SigwardError('KEY_INVALID', 'not a PEM public key: this is a private key; give the public key (cosign.pub), which cosign generate-key-pair writes beside it');
    }
    throw new SigwardError('KEY_INVALID', 'not a PEM public key');
  }
  let key: KeyObject;
  try {
    key = createPublicKey(block[0]);
  } catch (err) {
    throw new SigwardError('KEY_INVALID', 'not a PEM public key', { cause: err });
  }
  const algorithm = keyAlgorithm(key);
  const spki = new Uint8Array(key.export({ type: 'spki', format: 'der' }));
  return { algorithm, spki, id: createHash('sha256').update(spki).digest('hex') };
}

function keyAlgorithm(key: KeyObject): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
      const algorithm = CURVES[curve];
      if (!algorithm) throw new SigwardError('KEY_UNSUPPORTED', `unsupported elliptic curve ${curve || '(unnamed)'}`);
      return algorithm;
    }
    case 'rsa': {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < 2048) throw new SigwardError('KEY_UNSUPPORTED', `RSA key of ${bits} bits is too short (2048 at least)`);
      return 'rsa';
    }
    case 'ed25519':
      return 'ed25519';
    default:
      throw new SigwardError('KEY_UNSUPPORTED', `unsupported key type ${key.asymmetricKeyType ?? '(unknown)'}`);
  }
}
