import { bundleFromJSON } from '@sigstore/bundle';
import { SigwardError } from '../errors.js';
import { readTlogEntries } from './bundle-tlog.js';
import { BUNDLE_MEDIA_TYPES, SIGSTORE_LIMITS } from './constants.js';
import {
  arrayAt,
  bytesAt,
  objectAt,
  optionalObjectAt,
  optionalStringAt,
  parseJson,
  stringAt,
  type JsonObject,
  type Problems,
} from './fields.js';
import type { BundleContent, BundleVersion, MessageDigestAlgorithm, SigstoreBundle, VerificationMaterial } from './types.js';

export interface ParseBundleOptions {
  /**
   * The oldest version accepted. Cosign reads only v0.3 bundles from registries, so that is the
   * default; older ones exist for blobs (the conformance suite's artifacts).
   */
  readonly minVersion?: BundleVersion;
}

const DIGEST_ALGORITHMS: readonly MessageDigestAlgorithm[] = ['SHA2_256', 'SHA2_384', 'SHA2_512'];

/**
 * Parses a sigstore bundle (protobuf-specs JSON, cosign-spec §2.4) into a narrow, checked form.
 * Throws BUNDLE_UNSUPPORTED for a media type or version sigward does not verify and
 * BUNDLE_INVALID, listing every problem with its field path, for anything malformed: bytes
 * that are not base64 are refused rather than decoded leniently into something else.
 */
export function parseBundle(bytes: Uint8Array, options: ParseBundleOptions = {}): SigstoreBundle {
  if (bytes.length > SIGSTORE_LIMITS.bundleBytes) {
    throw new SigwardError('BUNDLE_INVALID', `bundle is ${bytes.length} bytes (${SIGSTORE_LIMITS.bundleBytes} at most)`);
  }
  const problems: Problems = [];
  const doc = objectAt(parseJson(bytes, '(bundle)', problems), '(bundle)', problems);
  if (doc === undefined) throw invalid(problems);
  const mediaType = stringAt(doc.mediaType, 'mediaType', problems);
  if (mediaType === undefined) throw invalid(problems);
  const version = bundleVersion(mediaType, options.minVersion ?? '0.3');
  const content = readContent(doc, problems);
  const materialObject = objectAt(doc.verificationMaterial, 'verificationMaterial', problems);
  const material = materialObject ? readMaterial(materialObject, version, problems) : undefined;
  const tlogEntries = readTlogEntries(materialObject?.tlogEntries, version, problems);
  const rfc3161Timestamps = readTimestamps(materialObject?.timestampVerificationData, problems);
  if (problems.length > 0 || content === undefined || material === undefined) throw invalid(problems);
  return { mediaType, version, content, material, tlogEntries, rfc3161Timestamps, library: libraryBundle(doc) };
}

function bundleVersion(mediaType: string, minVersion: BundleVersion): BundleVersion {
  const version = BUNDLE_MEDIA_TYPES[mediaType];
  if (version === undefined) {
    throw new SigwardError('BUNDLE_UNSUPPORTED', `bundle media type ${mediaType} is not one sigward reads`);
  }
  if (version < minVersion) {
    throw new SigwardError('BUNDLE_UNSUPPORTED', `bundle v${version} is older than v${minVersion}, the oldest accepted here`);
  }
  return version;
}

/** Exactly one of `messageSignature` and `dsseEnvelope`. */
function readContent(doc: JsonObject, problems: Problems): BundleContent | undefined {
  const before = problems.length;
  if ((doc.messageSignature === undefined) === (doc.dsseEnvelope === undefined)) {
    problems.push('(bundle): must carry exactly one of messageSignature and dsseEnvelope');
    return undefined;
  }
  if (doc.dsseEnvelope !== undefined) {
    const envelope = objectAt(doc.dsseEnvelope, 'dsseEnvelope', problems);
    const payload = bytesAt(envelope?.payload, 'dsseEnvelope.payload', problems);
    const payloadType = stringAt(envelope?.payloadType, 'dsseEnvelope.payloadType', problems);
    // A bundle's envelope carries one signature (protobuf-specs); more would let an entry
    // logged for one of them vouch for the others.
    const signatures: unknown = envelope?.signatures;
    const one = Array.isArray(signatures) && signatures.length === 1;
    if (!one) problems.push('dsseEnvelope.signatures: must hold exactly one signature');
    const first = one ? objectAt(signatures[0], 'dsseEnvelope.signatures[0]', problems) : undefined;
    const signature = first ? bytesAt(first.sig, 'dsseEnvelope.signatures[0].sig', problems) : undefined;
    if (problems.length > before || !payload || !payloadType || !signature) return undefined;
    return { kind: 'dsse', envelope: { payloadType, payload, signature } };
  }
  const message = objectAt(doc.messageSignature, 'messageSignature', problems);
  const messageDigest = objectAt(message?.messageDigest, 'messageSignature.messageDigest', problems);
  const algorithm = messageDigest?.algorithm;
  if (messageDigest && !DIGEST_ALGORITHMS.includes(algorithm as MessageDigestAlgorithm)) {
    problems.push(`messageSignature.messageDigest.algorithm: must be one of ${DIGEST_ALGORITHMS.join(', ')}`);
  }
  const digest = bytesAt(messageDigest?.digest, 'messageSignature.messageDigest.digest', problems);
  const signature = bytesAt(message?.signature, 'messageSignature.signature', problems);
  if (problems.length > before || !digest || !signature) return undefined;
  return { kind: 'message', message: { digestAlgorithm: algorithm as MessageDigestAlgorithm, digest, signature } };
}

/** Exactly one of `publicKey`, `certificate` and (before v0.3) `x509CertificateChain`. */
function readMaterial(material: JsonObject, version: BundleVersion, problems: Problems): VerificationMaterial | undefined {
  const present = ['publicKey', 'certificate', 'x509CertificateChain'].filter((key) => material[key] !== undefined);
  if (present.length !== 1) {
    problems.push('verificationMaterial: must carry exactly one of publicKey, certificate and x509CertificateChain');
    return undefined;
  }
  if (material.publicKey !== undefined) {
    const hint = optionalStringAt(objectAt(material.publicKey, 'verificationMaterial.publicKey', problems)?.hint,
      'verificationMaterial.publicKey.hint', problems);
    return { kind: 'publicKey', ...(hint !== undefined ? { hint } : {}) };
  }
  if (material.certificate !== undefined) {
    const certificate = objectAt(material.certificate, 'verificationMaterial.certificate', problems);
    const raw = bytesAt(certificate?.rawBytes, 'verificationMaterial.certificate.rawBytes', problems);
    return raw ? { kind: 'certificate', certificate: raw, chain: [] } : undefined;
  }
  const path = 'verificationMaterial.x509CertificateChain';
  // v0.3 forbids the chain: the leaf alone is signed material, the CA comes from the trusted root.
  if (version === '0.3') problems.push(`${path}: not allowed in a v0.3 bundle`);
  const certificates = arrayAt(objectAt(material.x509CertificateChain, path, problems)?.certificates,
    `${path}.certificates`, problems, SIGSTORE_LIMITS.certificates)
    .map((item, index) => bytesAt(objectAt(item, `${path}.certificates[${index}]`, problems)?.rawBytes,
      `${path}.certificates[${index}].rawBytes`, problems));
  const [leaf, ...chain] = certificates;
  if (leaf === undefined) problems.push(`${path}.certificates: must hold the signing certificate`);
  if (!leaf || chain.some((certificate) => certificate === undefined)) return undefined;
  return { kind: 'certificate', certificate: leaf, chain: chain as Uint8Array[] };
}

function readTimestamps(value: unknown, problems: Problems): Uint8Array[] {
  const path = 'verificationMaterial.timestampVerificationData';
  const data = optionalObjectAt(value, path, problems);
  return arrayAt(data?.rfc3161Timestamps, `${path}.rfc3161Timestamps`, problems, SIGSTORE_LIMITS.timestamps, true)
    .map((item, index) => bytesAt(objectAt(item, `${path}.rfc3161Timestamps[${index}]`, problems)?.signedTimestamp,
      `${path}.rfc3161Timestamps[${index}].signedTimestamp`, problems))
    .filter((timestamp): timestamp is Uint8Array => timestamp !== undefined);
}

/** The same document in @sigstore/bundle's form; its own checks must agree with the ones above. */
function libraryBundle(doc: JsonObject): SigstoreBundle['library'] {
  try {
    return bundleFromJSON(doc);
  } catch (err) {
    throw new SigwardError('BUNDLE_INVALID', `bundle is malformed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function invalid(problems: Problems): SigwardError {
  return new SigwardError('BUNDLE_INVALID', `bundle is malformed: ${problems.join('; ')}`);
}
