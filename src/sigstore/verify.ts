import { createHash } from 'node:crypto';
import { COSIGN } from '../constants.js';
import { SigwardError } from '../errors.js';
import { parseDigest } from '../reference/digest.js';
import { dsseContent, messageContent, type SignedContent } from './content.js';
import { bytesEqual } from './keys.js';
import { bindStatement, parseStatement } from './statement.js';
import type {
  BundleAuthority,
  BundleProof,
  ExpectedImage,
  MessageSignature,
  SigstoreBundle,
  VerifiedArtifact,
  VerifiedBundle,
} from './types.js';
import { verifyWithKey } from './verify-key.js';
import { verifyKeyless } from './verify-keyless.js';

/**
 * Verifies a cosign v3 bundle found for an image (cosign-spec §2.2–2.4): the signer (key, or
 * Fulcio certificate with its logs and times), then, only once the signature is proven, the
 * in-toto statement: cosign's signature predicate (or the attestation type asked for), a
 * subject naming exactly the admitted digest, and the required annotations. Cosign accepts
 * only DSSE envelopes for images; a message signature over an image is BUNDLE_UNSUPPORTED.
 */
export function verifyImageBundle(bundle: SigstoreBundle, expected: ExpectedImage, authority: BundleAuthority): VerifiedBundle {
  const sha256Hex = parseDigest(expected.digest, 'expected image digest').slice('sha256:'.length);
  if (bundle.content.kind !== 'dsse') {
    throw new SigwardError('BUNDLE_UNSUPPORTED', 'bundle holds a message signature; cosign verifies images only from DSSE envelopes');
  }
  const { envelope } = bundle.content;
  const proof = verifySigner(bundle, dsseContent(envelope), authority);
  const statement = parseStatement(envelope);
  bindStatement(statement, sha256Hex, {
    predicateType: expected.predicateType ?? COSIGN.signPredicateType,
    ...(expected.annotations ? { annotations: expected.annotations } : {}),
  });
  return { ...proof, statement, payload: envelope.payload };
}

/**
 * Verifies a bundle for a blob (`cosign verify-blob --bundle`): a message signature over the
 * artifact itself, or a DSSE statement with a subject whose sha256 is the artifact's.
 */
export function verifyArtifactBundle(bundle: SigstoreBundle, artifact: Uint8Array, authority: BundleAuthority): VerifiedArtifact {
  if (bundle.content.kind === 'dsse') {
    const { envelope } = bundle.content;
    const proof = verifySigner(bundle, dsseContent(envelope), authority, artifact);
    const statement = parseStatement(envelope);
    bindStatement(statement, createHash('sha256').update(artifact).digest('hex'), {});
    return { ...proof, statement, payload: envelope.payload };
  }
  const { message } = bundle.content;
  const proof = verifySigner(bundle, messageContent(message, artifact), authority, artifact);
  checkMessageDigest(message, artifact);
  return proof;
}

/**
 * `verify-blob sha256:<hex>`: a DSSE statement whose subject has this sha256, for an artifact
 * known only by its digest. A message signature signs the artifact's bytes, so it needs the file.
 */
export function verifyArtifactDigestBundle(bundle: SigstoreBundle, sha256Hex: string, authority: BundleAuthority): VerifiedArtifact {
  if (bundle.content.kind !== 'dsse') {
    throw new SigwardError('BUNDLE_UNSUPPORTED', 'a message-signature bundle signs the artifact\'s bytes: give the file, not its digest');
  }
  const { envelope } = bundle.content;
  const proof = verifySigner(bundle, dsseContent(envelope), authority);
  const statement = parseStatement(envelope);
  bindStatement(statement, sha256Hex, {});
  return { ...proof, statement, payload: envelope.payload };
}

function verifySigner(bundle: SigstoreBundle, content: SignedContent, authority: BundleAuthority, artifact?: Uint8Array): BundleProof {
  switch (authority.kind) {
    case 'key':
      return verifyWithKey(bundle, content, authority);
    case 'keyless':
      return verifyKeyless(bundle, content, authority, artifact);
    default: {
      // Fail closed on an authority kind this switch does not know (one built outside the policy module).
      const unknown: never = authority;
      throw new SigwardError('POLICY_INVALID', `unknown authority kind ${String((unknown as { kind?: unknown }).kind)}`);
    }
  }
}

/** The bundle's digest is only a hint, but one that disagrees with the artifact is refused. */
function checkMessageDigest(message: MessageSignature, artifact: Uint8Array): void {
  const algorithm = { SHA2_256: 'sha256', SHA2_384: 'sha384', SHA2_512: 'sha512' }[message.digestAlgorithm];
  if (!bytesEqual(new Uint8Array(createHash(algorithm).update(artifact).digest()), message.digest)) {
    throw new SigwardError('CLAIM_MISMATCH', 'bundle message digest is not the digest of the artifact');
  }
}
