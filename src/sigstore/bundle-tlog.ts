import { SIGSTORE_LIMITS } from './constants.js';
import {
  arrayAt,
  bytesAt,
  objectAt,
  optionalObjectAt,
  optionalUnsignedAt,
  stringAt,
  unsignedAt,
  valueAt,
  type Problems,
} from './fields.js';
import type { BundleVersion, InclusionProof, TlogEntry } from './types.js';

/**
 * Reads `verificationMaterial.tlogEntries` with the rules of the bundle's version
 * (cosign-spec §2.4): v0.1 entries carry a SET (inclusion promise); v0.2 and later carry an
 * inclusion proof with a checkpoint, since a proof without a signed tree head proves nothing.
 */
export function readTlogEntries(value: unknown, version: BundleVersion, problems: Problems): TlogEntry[] {
  const path = 'verificationMaterial.tlogEntries';
  const entries: TlogEntry[] = [];
  // protobuf JSON omits an empty repeated field: a bundle signed without a log has no key at all.
  arrayAt(value, path, problems, SIGSTORE_LIMITS.tlogEntries, true).forEach((item, index) => {
    const entryPath = `${path}[${index}]`;
    const entry = readEntry(item, entryPath, problems);
    if (version === '0.1' && valueAt(item, 'inclusionPromise') === undefined) {
      problems.push(`${entryPath}.inclusionPromise: required in a v0.1 bundle`);
    }
    if (version !== '0.1' && valueAt(item, 'inclusionProof', 'checkpoint') === undefined) {
      problems.push(`${entryPath}.inclusionProof.checkpoint: required from bundle v0.2 on`);
    }
    if (entry !== undefined) entries.push(entry);
  });
  return entries;
}

function readEntry(value: unknown, path: string, problems: Problems): TlogEntry | undefined {
  const entry = objectAt(value, path, problems);
  if (entry === undefined) return undefined;
  const before = problems.length;
  const logIndex = unsignedAt(entry.logIndex, `${path}.logIndex`, problems);
  const logId = bytesAt(objectAt(entry.logId, `${path}.logId`, problems)?.keyId, `${path}.logId.keyId`, problems);
  const kindVersion = objectAt(entry.kindVersion, `${path}.kindVersion`, problems);
  const kind = stringAt(kindVersion?.kind, `${path}.kindVersion.kind`, problems);
  const version = stringAt(kindVersion?.version, `${path}.kindVersion.version`, problems);
  const integratedTime = optionalUnsignedAt(entry.integratedTime, `${path}.integratedTime`, problems);
  const promise = optionalObjectAt(entry.inclusionPromise, `${path}.inclusionPromise`, problems);
  const signedEntryTimestamp = promise
    ? bytesAt(promise.signedEntryTimestamp, `${path}.inclusionPromise.signedEntryTimestamp`, problems)
    : undefined;
  const inclusionProof = readProof(entry.inclusionProof, `${path}.inclusionProof`, problems);
  const body = bytesAt(entry.canonicalizedBody, `${path}.canonicalizedBody`, problems);
  if (problems.length > before || logIndex === undefined || logId === undefined || !kind || !version || !body) {
    return undefined;
  }
  return {
    logIndex,
    logId,
    kind,
    version,
    // Rekor v2 writes no time; protobuf JSON may still spell the default as "0".
    ...(integratedTime !== undefined && integratedTime > 0n ? { integratedTime } : {}),
    ...(signedEntryTimestamp ? { signedEntryTimestamp } : {}),
    ...(inclusionProof ? { inclusionProof } : {}),
    body,
  };
}

function readProof(value: unknown, path: string, problems: Problems): InclusionProof | undefined {
  const proof = optionalObjectAt(value, path, problems);
  if (proof === undefined) return undefined;
  const before = problems.length;
  const logIndex = unsignedAt(proof.logIndex, `${path}.logIndex`, problems);
  const rootHash = bytesAt(proof.rootHash, `${path}.rootHash`, problems);
  const treeSize = unsignedAt(proof.treeSize, `${path}.treeSize`, problems);
  const hashes = arrayAt(proof.hashes, `${path}.hashes`, problems, SIGSTORE_LIMITS.proofHashes, true).map((hash, index) =>
    bytesAt(hash, `${path}.hashes[${index}]`, problems),
  );
  const checkpointObject = optionalObjectAt(proof.checkpoint, `${path}.checkpoint`, problems);
  const checkpoint = checkpointObject ? stringAt(checkpointObject.envelope, `${path}.checkpoint.envelope`, problems) : undefined;
  if (checkpoint !== undefined && checkpoint.length > SIGSTORE_LIMITS.checkpointChars) {
    problems.push(`${path}.checkpoint.envelope: ${checkpoint.length} characters (${SIGSTORE_LIMITS.checkpointChars} at most)`);
  }
  if (problems.length > before || logIndex === undefined || rootHash === undefined || treeSize === undefined) {
    return undefined;
  }
  return {
    logIndex,
    rootHash,
    treeSize,
    hashes: hashes.filter((hash): hash is Uint8Array => hash !== undefined),
    ...(checkpoint !== undefined ? { checkpoint } : {}),
  };
}
