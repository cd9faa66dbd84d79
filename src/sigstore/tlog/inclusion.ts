import { SigwardError } from '../../errors.js';
import { bytesEqual } from '../keys.js';
import type { InclusionProof, TlogEntry, TransparencyLog } from '../types.js';
import { verifyCheckpoint } from './checkpoint.js';
import { verifyInclusionProof } from './merkle.js';
import { verifySignedEntryTimestamp } from './set.js';

/** An entry the log is proven to hold; `integratedTime` only when a verified SET vouches for it. */
export interface IncludedEntry {
  /** Its position in the bundle's `tlogEntries`. */
  readonly index: number;
  readonly entry: TlogEntry;
  readonly integratedTime?: Date;
}

/**
 * Proves that a trusted log holds every entry of the bundle (cosign-spec §2.4), offline: each
 * entry's log must be one of `logs`, and its SET, its inclusion proof with a signed
 * checkpoint, or both, must verify. An entry from an unknown log, or one proven by neither,
 * refuses the bundle: a present but unprovable entry is never skipped.
 */
export function verifyTlogInclusion(entries: readonly TlogEntry[], logs: readonly TransparencyLog[]): IncludedEntry[] {
  if (entries.length === 0) {
    throw new SigwardError('TLOG_MISSING', 'bundle has no transparency-log entry, and the authority requires one');
  }
  return entries.map((entry, index) => verifyEntry(entry, index, logs));
}

function verifyEntry(entry: TlogEntry, index: number, logs: readonly TransparencyLog[]): IncludedEntry {
  const where = `tlogEntries[${index}] (log index ${entry.logIndex})`;
  const log = logs.find((candidate) => bytesEqual(candidate.logId, entry.logId));
  if (log === undefined) {
    throw new SigwardError('TLOG_INVALID', `${where}: names log ${Buffer.from(entry.logId).toString('base64')}, which the authority does not trust`);
  }
  const { signedEntryTimestamp, inclusionProof } = entry;
  if (signedEntryTimestamp === undefined && inclusionProof === undefined) {
    throw new SigwardError('TLOG_INVALID', `${where}: has neither a signed entry timestamp nor an inclusion proof`);
  }
  const integratedTime = signedEntryTimestamp ? verifySignedEntryTimestamp(entry, signedEntryTimestamp, log, where) : undefined;
  if (inclusionProof) verifyProof(entry, inclusionProof, log, where);
  return { index, entry, ...(integratedTime ? { integratedTime } : {}) };
}

/** The path must reach the proof's root, and the log must have signed a checkpoint for exactly that tree. */
function verifyProof(entry: TlogEntry, proof: InclusionProof, log: TransparencyLog, where: string): void {
  verifyInclusionProof(entry.body, proof, where);
  if (proof.checkpoint === undefined) {
    throw new SigwardError('INCLUSION_PROOF_INVALID', `${where}: inclusion proof has no signed checkpoint`);
  }
  const checkpoint = verifyCheckpoint(proof.checkpoint, log, where);
  if (checkpoint.treeSize !== proof.treeSize || !bytesEqual(checkpoint.rootHash, proof.rootHash)) {
    throw new SigwardError(
      'INCLUSION_PROOF_INVALID',
      `${where}: checkpoint is for tree size ${checkpoint.treeSize} with another root, not the proof's tree of size ${proof.treeSize}`,
    );
  }
}
