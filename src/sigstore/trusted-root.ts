import { X509Certificate } from 'node:crypto';
import { TrustedRoot as LibraryTrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial } from '@sigstore/verify';
import { describeError, SigwardError } from '../errors.js';
import { SIGSTORE_LIMITS, TRUSTED_ROOT_MEDIA_TYPES } from './constants.js';
import {
  arrayAt,
  bytesAt,
  objectAt,
  optionalObjectAt,
  optionalTimeAt,
  stringAt,
  type JsonObject,
  type Problems,
} from './fields.js';
import { publicKeyFromDer } from './keys.js';
import type { TransparencyLog, TrustedRoot } from './types.js';

/**
 * Parses a `trusted_root.json` (protobuf-specs `TrustedRoot`): the Rekor logs sigward checks
 * entries against itself, and the Fulcio CAs, CT logs and timestamp authorities, checked here
 * for shape and handed to @sigstore/verify. Every problem is reported with its field path as
 * TRUSTED_ROOT_INVALID: a root sigward cannot fully use is refused, never used in part.
 */
export function parseTrustedRoot(json: string): TrustedRoot {
  if (json.length > SIGSTORE_LIMITS.trustedRootBytes) {
    throw new SigwardError('TRUSTED_ROOT_INVALID', `trusted root is ${json.length} characters (${SIGSTORE_LIMITS.trustedRootBytes} at most)`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (err) {
    throw new SigwardError('TRUSTED_ROOT_INVALID', 'trusted root is not JSON', { cause: err });
  }
  const problems: Problems = [];
  const doc = objectAt(parsed, '(trusted root)', problems);
  const mediaType = stringAt(doc?.mediaType, 'mediaType', problems);
  if (mediaType !== undefined && !TRUSTED_ROOT_MEDIA_TYPES.includes(mediaType)) {
    problems.push(`mediaType: ${mediaType} is not a trusted root media type sigward reads`);
  }
  const tlogs = list(doc?.tlogs, 'tlogs', problems).map((item, index) => readLog(item, `tlogs[${index}]`, problems));
  list(doc?.ctlogs, 'ctlogs', problems).forEach((item, index) => readLog(item, `ctlogs[${index}]`, problems));
  for (const field of ['certificateAuthorities', 'timestampAuthorities'] as const) {
    list(doc?.[field], field, problems).forEach((item, index) => {
      checkAuthority(item, `${field}[${index}]`, problems);
    });
  }
  if (doc === undefined || problems.length > 0) {
    throw new SigwardError('TRUSTED_ROOT_INVALID', `trusted root is invalid: ${problems.join('; ')}`);
  }
  return { tlogs: tlogs.filter((log): log is TransparencyLog => log !== undefined), material: libraryMaterial(doc) };
}

function list(value: unknown, path: string, problems: Problems): unknown[] {
  return arrayAt(value, path, problems, SIGSTORE_LIMITS.trustedRootEntries, true);
}

/** A `TransparencyLogInstance`: Rekor in `tlogs`, certificate transparency in `ctlogs`. */
function readLog(value: unknown, path: string, problems: Problems): TransparencyLog | undefined {
  const log = objectAt(value, path, problems);
  if (log === undefined) return undefined;
  const before = problems.length;
  const baseUrl = stringAt(log.baseUrl, `${path}.baseUrl`, problems);
  const key = objectAt(log.publicKey, `${path}.publicKey`, problems);
  const rawKey = bytesAt(key?.rawBytes, `${path}.publicKey.rawBytes`, problems);
  const keyDetails = stringAt(key?.keyDetails, `${path}.publicKey.keyDetails`, problems);
  const validFor = optionalObjectAt(key?.validFor, `${path}.publicKey.validFor`, problems);
  const validFrom = optionalTimeAt(validFor?.start, `${path}.publicKey.validFor.start`, problems);
  const validUntil = optionalTimeAt(validFor?.end, `${path}.publicKey.validFor.end`, problems);
  const logId = bytesAt(objectAt(log.logId, `${path}.logId`, problems)?.keyId, `${path}.logId.keyId`, problems);
  const checkpoint = optionalObjectAt(log.checkpointKeyId, `${path}.checkpointKeyId`, problems);
  const checkpointKeyId = checkpoint ? bytesAt(checkpoint.keyId, `${path}.checkpointKeyId.keyId`, problems) : logId;
  if (problems.length > before || !baseUrl || !rawKey || !logId || !checkpointKeyId) return undefined;
  try {
    const publicKey = publicKeyFromDer(rawKey, keyDetails === 'PKCS1_RSA_PKCS1V5' ? 'pkcs1' : 'spki');
    return {
      baseUrl,
      logId,
      checkpointKeyId,
      key: publicKey,
      ...(validFrom ? { validFrom } : {}),
      ...(validUntil ? { validUntil } : {}),
    };
  } catch (err) {
    problems.push(`${path}.publicKey.rawBytes: ${describeError(err)}`);
    return undefined;
  }
}

/** A `CertificateAuthority`: a chain of DER certificates (leaf or intermediate first, root last). */
function checkAuthority(value: unknown, path: string, problems: Problems): void {
  const authority = objectAt(value, path, problems);
  if (authority === undefined) return;
  const chain = objectAt(authority.certChain, `${path}.certChain`, problems);
  const certificates = arrayAt(chain?.certificates, `${path}.certChain.certificates`, problems, SIGSTORE_LIMITS.certificates);
  if (chain && certificates.length === 0) problems.push(`${path}.certChain.certificates: must not be empty`);
  certificates.forEach((item, index) => {
    const certificatePath = `${path}.certChain.certificates[${index}]`;
    const der = bytesAt(objectAt(item, certificatePath, problems)?.rawBytes, `${certificatePath}.rawBytes`, problems);
    if (der === undefined) return;
    try {
      new X509Certificate(der);
    } catch {
      problems.push(`${certificatePath}.rawBytes: not a DER X.509 certificate`);
    }
  });
  const validFor = optionalObjectAt(authority.validFor, `${path}.validFor`, problems);
  optionalTimeAt(validFor?.start, `${path}.validFor.start`, problems);
  optionalTimeAt(validFor?.end, `${path}.validFor.end`, problems);
}

function libraryMaterial(doc: JsonObject): TrustedRoot['material'] {
  try {
    return toTrustMaterial(LibraryTrustedRoot.fromJSON(doc));
  } catch (err) {
    throw new SigwardError('TRUSTED_ROOT_INVALID', `trusted root is invalid: ${describeError(err)}`, { cause: err });
  }
}
