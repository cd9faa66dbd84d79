import { COSIGN } from '../constants.js';
import type { PublicKey } from '../crypto/types.js';
import { verifySignature } from '../crypto/verify.js';
import { SigwardError } from '../errors.js';
import { parseSimpleSigningPayload } from './payload.js';
import type { SignatureCandidate, SimpleSigningPayload, VerifiedSignature } from './types.js';

export interface LegacyExpectation {
  /** The digest being admitted, `sha256:<hex>`. */
  readonly digest: string;
  /** Payload `optional` fields that must be present with exactly these string values. */
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Checks one legacy signature the way `cosign verify --key` does (cosign-spec §1.6), in its
 * order: the signature over the exact payload bytes, then the payload's claims. Returns what
 * the signature proves, or throws the coded reason it proves nothing (the caller names where the
 * signature was found).
 */
export function verifyLegacySignature(
  candidate: SignatureCandidate,
  key: PublicKey,
  expected: LegacyExpectation,
): VerifiedSignature {
  if (candidate.format !== 'legacy') {
    throw new SigwardError('SIGNATURE_MALFORMED', 'not a legacy signature');
  }
  verifyPayloadSignature(candidate, key);
  const payload = parseSignedPayload(candidate);
  bindDigest(candidate, payload, expected.digest);
  matchAnnotations(candidate, payload, expected.annotations ?? {});
  return { location: candidate.location, format: 'legacy', payload: candidate.payload, keyId: key.id };
}

/**
 * (1) The key signed exactly these bytes. They are never parsed and re-serialized first: a
 * verifier that re-encodes JSON can be shown one document and verify another.
 */
function verifyPayloadSignature(candidate: SignatureCandidate, key: PublicKey): void {
  if (!verifySignature(key, candidate.payload, candidate.signature)) {
    throw new SigwardError(
      'SIGNATURE_INVALID',
      `signature does not verify with ${key.algorithm} key ${key.id.slice(0, 12)}`,
    );
  }
}

/**
 * (2) Only now is the payload parsed. `critical.type` is checked although cosign does not: it
 * costs nothing and refuses a signature the key made over some other kind of document.
 */
function parseSignedPayload(candidate: SignatureCandidate): SimpleSigningPayload {
  const payload = parseSimpleSigningPayload(candidate.payload);
  if (payload.critical.type !== COSIGN.signatureType) {
    throw new SigwardError(
      'PAYLOAD_INVALID',
      `critical.type is ${JSON.stringify(payload.critical.type.slice(0, 100))}, not "${COSIGN.signatureType}"`,
    );
  }
  return payload;
}

/**
 * (3) The payload names the digest being admitted, compared exactly as cosign compares it.
 * This is the check that stops replay: a genuine signature for image A, copied to the `.sig`
 * tag of image B, verifies as a signature but names A's digest.
 */
function bindDigest(candidate: SignatureCandidate, payload: SimpleSigningPayload, digest: string): void {
  const claimed = payload.critical.image['docker-manifest-digest'];
  if (claimed !== digest) {
    throw new SigwardError(
      'CLAIM_MISMATCH',
      `payload signs ${JSON.stringify(claimed.slice(0, 100))}, not the admitted ${digest}`,
    );
  }
}

/**
 * (4) Each required annotation equals a string in `optional`. cosign compares Go interface
 * values, so a number or boolean never equals the string a policy gives; the same here. This
 * stops a key that signs for several environments from admitting a `env: dev` image where
 * `env: prod` is required.
 */
function matchAnnotations(
  candidate: SignatureCandidate,
  payload: SimpleSigningPayload,
  required: Readonly<Record<string, string>>,
): void {
  const optional = payload.optional ?? {};
  for (const [name, value] of Object.entries(required)) {
    const actual = Object.hasOwn(optional, name) ? optional[name] : undefined;
    if (actual !== value) {
      const found = actual === undefined ? 'is missing' : `is ${describe(actual)}`;
      throw new SigwardError(
        'ANNOTATION_MISMATCH',
        `annotation ${JSON.stringify(name)} ${found}, ${JSON.stringify(value)} required`,
      );
    }
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : `a ${value === null ? 'null' : typeof value}`;
}
