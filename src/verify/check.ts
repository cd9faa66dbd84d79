import { MEDIA_TYPE } from '../constants.js';
import { verifyLegacySignature } from '../cosign/index.js';
import type { SignatureCandidate, VerifiedSignature } from '../cosign/types.js';
import { describeError, errorCode, SigwardError, type ErrorCode } from '../errors.js';
import type { BundleAuthority, BundleSigner } from '../sigstore/index.js';
import type { Authority } from './types.js';

type Sigstore = typeof import('../sigstore/index.js');
let sigstoreModule: Promise<Sigstore> | undefined;

/**
 * The bundle, keyless and transparency-log code, loaded the first time a check needs it: a
 * key-only check of a legacy signature (most `sigward verify` runs) never pays for importing it.
 */
function sigstore(): Promise<Sigstore> {
  sigstoreModule ??= import('../sigstore/index.js');
  return sigstoreModule;
}

export type CheckOutcome =
  | { readonly ok: true; readonly signature: VerifiedSignature }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

interface Expected {
  readonly digest: string;
  readonly annotations?: Readonly<Record<string, string>>;
}

/**
 * Checks one signature against one authority: its signer (key, or keyless identity under a
 * trusted root), its transparency-log entry when the authority requires one, the digest
 * binding and the required annotations. An authority that asks for an attestation accepts only
 * an attestation of that predicate type.
 */
export async function checkSignature(candidate: SignatureCandidate, authority: Authority, digest: string): Promise<CheckOutcome> {
  try {
    return { ok: true, signature: await verifyCandidate(candidate, authority, digest) };
  } catch (err) {
    return { ok: false, code: errorCode(err), message: describeError(err) };
  }
}

async function verifyCandidate(candidate: SignatureCandidate, authority: Authority, digest: string): Promise<VerifiedSignature> {
  const expected: Expected = { digest, ...(authority.annotations ? { annotations: authority.annotations } : {}) };
  switch (candidate.format) {
    case 'legacy':
      return verifyLegacy(candidate, authority, expected);
    case 'bundle':
      return verifyBundle(candidate, authority, expected);
    default:
      throw new SigwardError('INTERNAL', 'unknown signature format');
  }
}

/**
 * A `.sig` layer (a `.att` layer's DSSE envelope is an attestation, checked apart): with a key,
 * the signature over the exact payload bytes (cosign-spec §1.6),
 * then, when the authority names Rekor keys, the layer's SET (§1.5); with a keyless authority,
 * the layer's certificate, SCT, SET and identity. A simple-signing payload is not an in-toto
 * attestation, so it never satisfies an authority that asks for one.
 */
async function verifyLegacy(candidate: SignatureCandidate, authority: Authority, expected: Expected): Promise<VerifiedSignature> {
  if (candidate.descriptor.mediaType === MEDIA_TYPE.dsseEnvelope) return verifyLegacyAttestation(candidate, authority, expected);
  if (authority.attestation !== undefined) {
    throw new SigwardError('CLAIM_MISMATCH', `a simple-signing signature, not an attestation of type ${authority.attestation.predicateType}`);
  }
  const layer = { payload: candidate.payload, signature: candidate.signature, annotations: candidate.annotations };
  if (authority.keyless === undefined) {
    const verified = verifyLegacySignature(candidate, authority.key, expected);
    if (authority.rekor !== undefined) (await sigstore()).verifyLegacyTransparency(layer, authority.key, authority.rekor);
    return verified;
  }
  const proof = (await sigstore()).verifyLegacyKeyless(layer, expected, authority.keyless);
  return { location: candidate.location, format: 'legacy', payload: candidate.payload, keyId: signerId(proof.signer) };
}

/**
 * A `.att` layer (cosign-spec §1.7): the DSSE envelope, restated as the bundle it is equivalent
 * to, must be signed by the authority and hold a statement of the predicate type it asks for,
 * about the admitted digest. An attestation is not a signature, so it never satisfies an
 * authority that asks for signatures.
 */
async function verifyLegacyAttestation(candidate: SignatureCandidate, authority: Authority, expected: Expected): Promise<VerifiedSignature> {
  if (authority.attestation === undefined) {
    throw new SigwardError('CLAIM_MISMATCH', 'an attestation, not a signature');
  }
  const layer = { payload: candidate.payload, signature: candidate.signature, annotations: candidate.annotations };
  const expectedAttestation = { ...expected, predicateType: authority.attestation.predicateType };
  const { legacyAttestationBundle, verifyImageBundle } = await sigstore();
  const verified = verifyImageBundle(legacyAttestationBundle(layer), expectedAttestation, bundleAuthority(authority));
  return { location: candidate.location, format: 'legacy', payload: verified.payload, keyId: signerId(verified.signer) };
}

/**
 * A cosign v3 bundle: the signer as the authority trusts it, then the statement, which must
 * name the admitted digest (the same binding as the legacy payload's docker-manifest-digest)
 * with cosign's signature predicate, or the attestation type the authority asks for.
 */
async function verifyBundle(candidate: SignatureCandidate, authority: Authority, expected: Expected): Promise<VerifiedSignature> {
  const predicateType = authority.attestation?.predicateType;
  const { parseBundle, verifyImageBundle } = await sigstore();
  const verified = verifyImageBundle(
    parseBundle(candidate.payload),
    { ...expected, ...(predicateType !== undefined ? { predicateType } : {}) },
    bundleAuthority(authority),
  );
  return { location: candidate.location, format: 'bundle', payload: verified.payload, keyId: signerId(verified.signer) };
}

function bundleAuthority(authority: Authority): BundleAuthority {
  if (authority.keyless !== undefined) return authority.keyless;
  return { kind: 'key', key: authority.key, ...(authority.rekor ? { rekor: authority.rekor } : {}) };
}

/** The key id, or the certificate identity a keyless signature proved. */
function signerId(signer: BundleSigner): string {
  return signer.kind === 'key' ? signer.keyId : `${signer.subject} (issuer ${signer.issuer})`;
}
