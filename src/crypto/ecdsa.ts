import { createPublicKey } from 'node:crypto';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { SigwardError } from '../errors.js';
import { hash, type HashAlgorithm } from './hash.js';
import type { PublicKey } from './types.js';
import type { Verifier } from './verify.js';

type Curve = typeof p256;
type EcdsaAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521';

interface CurveSpec {
  readonly curve: Curve;
  /** The name node:crypto gives the curve, checked against the SPKI. */
  readonly nodeName: string;
  /** Field element size in bytes: the width of x, y, r and s. */
  readonly size: number;
  /**
   * Message hashes tried in order. `cosign verify --key` hashes with SHA-256 whatever the curve
   * (cosign-spec §1.4); signers built on sigstore-go pick the curve's own hash for P-384/P-521,
   * so those curves also accept it. P-256 accepts SHA-256 only.
   */
  readonly hashes: readonly HashAlgorithm[];
}

const CURVES: Record<EcdsaAlgorithm, CurveSpec> = {
  'ecdsa-p256': { curve: p256, nodeName: 'prime256v1', size: 32, hashes: ['sha256'] },
  'ecdsa-p384': { curve: p384, nodeName: 'secp384r1', size: 48, hashes: ['sha256', 'sha384'] },
  'ecdsa-p521': { curve: p521, nodeName: 'secp521r1', size: 66, hashes: ['sha256', 'sha512'] },
};

/**
 * Parses the public point out of the key's SPKI once and returns a verifier for it. Throws
 * KEY_INVALID when the SPKI does not hold a valid point of the curve its algorithm names.
 */
export function ecdsaVerifier(key: PublicKey & { readonly algorithm: EcdsaAlgorithm }): Verifier {
  const spec = CURVES[key.algorithm];
  const point = publicPoint(key, spec);
  return (message, signature) => {
    const format = signatureFormat(spec, signature);
    if (format === undefined) return false;
    return spec.hashes.some((algorithm) =>
      spec.curve.verify(signature, hash(algorithm, message), point, {
        // The message is hashed above, explicitly, so the library must not hash it again.
        prehash: false,
        // Go's crypto/ecdsa (cosign) does not normalise S: half of real signatures are high-S.
        // ECDSA malleability does not matter here, nothing is keyed by signature bytes.
        lowS: false,
        // ASN.1 DER as cosign writes it, or raw r‖s when the bytes are not DER (see below).
        format,
      }),
    );
  };
}

/**
 * DER `SEQUENCE { r, s }` is what cosign emits. Like sigstore's Go verifier, raw IEEE-P1363
 * `r‖s` is accepted when DER parsing fails and the length is exactly twice the field size.
 */
function signatureFormat(spec: CurveSpec, signature: Uint8Array): 'der' | 'compact' | undefined {
  try {
    spec.curve.Signature.fromBytes(signature, 'der');
    return 'der';
  } catch {
    return signature.length === 2 * spec.size ? 'compact' : undefined;
  }
}

/** The uncompressed SEC1 point `04‖x‖y` of the key, validated to lie on the curve. */
function publicPoint(key: PublicKey, spec: CurveSpec): Uint8Array {
  let point: Uint8Array;
  try {
    const keyObject = createPublicKey({ key: Buffer.from(key.spki), format: 'der', type: 'spki' });
    const curveName = keyObject.asymmetricKeyDetails?.namedCurve;
    if (keyObject.asymmetricKeyType !== 'ec' || curveName !== spec.nodeName) {
      throw new Error(`SPKI holds ${keyObject.asymmetricKeyType ?? 'no'} key on ${curveName ?? 'no curve'}`);
    }
    const jwk = keyObject.export({ format: 'jwk' });
    point = new Uint8Array([0x04, ...coordinate(jwk.x, spec.size), ...coordinate(jwk.y, spec.size)]);
  } catch (err) {
    throw new SigwardError('KEY_INVALID', `${key.algorithm} key ${key.id}: not a usable public key`, { cause: err });
  }
  if (!spec.curve.utils.isValidPublicKey(point, false)) {
    throw new SigwardError('KEY_INVALID', `${key.algorithm} key ${key.id}: point is not on the curve`);
  }
  return point;
}

function coordinate(base64url: string | undefined, size: number): Uint8Array {
  const bytes = Buffer.from(base64url ?? '', 'base64url');
  if (bytes.length === 0 || bytes.length > size) throw new Error('bad point coordinate');
  const padded = new Uint8Array(size);
  padded.set(bytes, size - bytes.length);
  return padded;
}
