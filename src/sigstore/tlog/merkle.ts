import { createHash } from 'node:crypto';
import { SigwardError } from '../../errors.js';
import { bytesEqual } from '../keys.js';
import type { InclusionProof } from '../types.js';

/**
 * Checks that `leaf` (a canonicalized entry body) is at `proof.logIndex` of the tree whose
 * root is `proof.rootHash`, with the algorithm of RFC 9162 §2.1.3.2 (leaf hash
 * SHA-256(0x00‖leaf), node hash SHA-256(0x01‖left‖right)). Stops a bundle that names a log
 * entry the log never published: without the path, a SET-less entry is only a claim.
 */
export function verifyInclusionProof(leaf: Uint8Array, proof: InclusionProof, where: string): void {
  const { logIndex, treeSize, hashes, rootHash } = proof;
  if (logIndex >= treeSize) {
    throw new SigwardError('INCLUSION_PROOF_INVALID', `${where}: index ${logIndex} is outside a tree of ${treeSize}`);
  }
  let fn = logIndex;
  let sn = treeSize - 1n;
  let hash = leafHash(leaf);
  for (const sibling of hashes) {
    if (sn === 0n) {
      throw new SigwardError('INCLUSION_PROOF_INVALID', `${where}: proof has more hashes than the tree has levels`);
    }
    if ((fn & 1n) === 1n || fn === sn) {
      hash = nodeHash(sibling, hash);
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      hash = nodeHash(hash, sibling);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n || !bytesEqual(hash, rootHash)) {
    throw new SigwardError('INCLUSION_PROOF_INVALID', `${where}: the proof does not lead from the entry to root hash of tree size ${treeSize}`);
  }
}

function leafHash(leaf: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(0)).update(leaf).digest());
}

function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(Uint8Array.of(1)).update(left).update(right).digest());
}
