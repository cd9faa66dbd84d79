import { toSignedEntity, VerificationError, Verifier, type SignedEntity } from '@sigstore/verify';
import { verifySignature } from '../crypto/verify.js';
import { describeError, SigwardError } from '../errors.js';
import type { SignedContent } from './content.js';
import type { CertificateIdentity } from './identity.js';
import { parseCertificate, publicKeyFromKeyObject } from './keys.js';
import type { IncludedEntry } from './tlog/inclusion.js';
import type { SigstoreBundle, TrustedRoot } from './types.js';

type Timestamp = SignedEntity['timestamps'][number];

export interface CertificateProof {
  readonly identity: CertificateIdentity;
  /** Every time the certificate was checked at: verified SET times and RFC 3161 times. */
  readonly signingTimes: readonly Date[];
}

/**
 * The keyless checks made through @sigstore/verify (cosign-spec §2.4): the leaf chains to a
 * Fulcio CA of the trusted root and every certificate on the path is valid at each trusted
 * signing time; at least one SCT from a trusted CT log; every RFC 3161 timestamp verifies with
 * a trusted TSA; at least one trusted time exists; and the signature verifies with the leaf's
 * key. Transparency-log entries are not handed over: sigward has verified them already and
 * passes only the integrated times their SETs vouch for.
 */
export function verifyCertificatePath(
  bundle: SigstoreBundle,
  content: SignedContent,
  included: readonly IncludedEntry[],
  root: TrustedRoot,
  artifact?: Uint8Array,
  options: { readonly ignoreSct?: boolean } = {},
): CertificateProof {
  const entity = libraryEntity(bundle, artifact);
  const timestamps = [...entity.timestamps.filter((t) => t.$case === 'timestamp-authority'), ...logTimestamps(bundle, included)];
  const signingTimes = [
    ...included.flatMap((entry) => (entry.integratedTime ? [entry.integratedTime] : [])),
    ...timestamps.flatMap((t) => (t.$case === 'timestamp-authority' ? [t.timestamp.signingTime] : [])),
  ];
  // Thresholds as cosign's keyless defaults: one SCT, one trusted time; no log entries here.
  const verifier = new Verifier(root.material, { ctlogThreshold: options.ignoreSct === true ? 0 : 1, timestampThreshold: 1, tlogThreshold: 0 });
  try {
    const signer = verifier.verify({ key: entity.key, signature: sigwardSignature(content), tlogEntries: [], timestamps });
    return {
      identity: { issuer: signer.identity?.extensions?.issuer, subject: signer.identity?.subjectAlternativeName },
      signingTimes,
    };
  } catch (err) {
    throw classify(err, bundle, signingTimes);
  }
}

function libraryEntity(bundle: SigstoreBundle, artifact: Uint8Array | undefined): SignedEntity {
  if (bundle.material.kind !== 'certificate') {
    throw new SigwardError('CERTIFICATE_INVALID', 'bundle is signed with a key (public-key hint), not a Fulcio certificate');
  }
  parseCertificate(bundle.material.certificate);
  try {
    return toSignedEntity(bundle.library, artifact ? Buffer.from(artifact) : undefined);
  } catch (err) {
    throw new SigwardError('BUNDLE_INVALID', `bundle certificate or timestamp is malformed: ${describeError(err)}`, { cause: err });
  }
}

/** The log entries whose SET verified, as @sigstore/verify takes integrated times. */
function logTimestamps(bundle: SigstoreBundle, included: readonly IncludedEntry[]): Timestamp[] {
  const entries = bundle.library.verificationMaterial.tlogEntries;
  return included.flatMap((entry) => {
    const tlogEntry = entries[entry.index];
    return entry.integratedTime && tlogEntry ? [{ $case: 'transparency-log' as const, tlogEntry }] : [];
  });
}

/**
 * The signature check @sigstore/verify runs with the leaf's key, made by sigward's crypto module
 * so that one place decides hashes and encodings. The comparisons serve only log-entry checks,
 * which are not delegated (no entries are passed): they refuse.
 */
function sigwardSignature(content: SignedContent): SignedEntity['signature'] {
  return {
    signature: Buffer.from(content.signature),
    verifySignature: (key) => verifySignature(publicKeyFromKeyObject(key), content.bytes, content.signature),
    compareSignature: () => false,
    compareDigest: () => false,
    compareSignedDigest: () => false,
  };
}

/** Maps @sigstore/verify's coarse codes onto sigward's, one per reason. */
function classify(err: unknown, bundle: SigstoreBundle, signingTimes: readonly Date[]): unknown {
  if (!(err instanceof VerificationError)) return err;
  const message = `certificate does not verify: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ''}`;
  switch (err.code) {
    case 'TIMESTAMP_ERROR':
      return new SigwardError('TIMESTAMP_INVALID', `no trusted signing time: ${err.message}`, { cause: err });
    case 'SIGNATURE_ERROR':
      return new SigwardError('SIGNATURE_INVALID', 'signature does not verify with the certificate\'s key', { cause: err });
    case 'CERTIFICATE_ERROR':
      return certificateError(err, message, bundle, signingTimes);
    default:
      return new SigwardError('CERTIFICATE_INVALID', message, { cause: err });
  }
}

/**
 * Timestamps are verified before the chain, so by now every signing time is trusted: one
 * outside the leaf's validity means the certificate had expired (or was not yet valid) when
 * the signature was made, the reason short-lived Fulcio certificates need a trusted time.
 */
function certificateError(err: VerificationError, message: string, bundle: SigstoreBundle, signingTimes: readonly Date[]): SigwardError {
  if (bundle.material.kind === 'certificate') {
    const leaf = parseCertificate(bundle.material.certificate);
    const outside = signingTimes.find((time) => time < leaf.validFromDate || time > leaf.validToDate);
    if (outside) {
      return new SigwardError(
        'CERTIFICATE_EXPIRED',
        `certificate valid from ${leaf.validFromDate.toISOString()} to ${leaf.validToDate.toISOString()} was not valid at signing time ${outside.toISOString()}`,
        { cause: err },
      );
    }
  }
  // The library names SCT failures only in its message ("SCT verification failed", "expected 1 SCTs").
  if (/\bSCTs?\b/.test(err.message)) return new SigwardError('SCT_INVALID', message, { cause: err });
  return new SigwardError('CERTIFICATE_INVALID', message, { cause: err });
}
