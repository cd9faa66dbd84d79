import { SigwardError } from '../../errors.js';
import { verifySignature } from '../../crypto/verify.js';
import { bytesEqual } from '../keys.js';
import type { TransparencyLog } from '../types.js';

export interface Checkpoint {
  readonly origin: string;
  readonly treeSize: bigint;
  readonly rootHash: Uint8Array;
}

const SIGNATURE_LINE = /^\u2014 (\S+) ([A-Za-z0-9+/]+={0,2})$/;
const TREE_SIZE = /^(?:0|[1-9][0-9]{0,19})$/;

/**
 * Verifies a checkpoint: a signed note (transparency-dev formats, "signed note") whose text is
 * `origin\nsize\nroot hash\n[extensions\n]` followed by a blank line and signature lines
 * `— name base64(key hint ‖ signature)`. One signature whose 4-byte hint names the log's key
 * must verify over the text (ECDSA for Rekor v1, Ed25519 for Rekor v2); witness co-signatures
 * are ignored. The signer's name is not trusted for anything: the key decides.
 */
export function verifyCheckpoint(envelope: string, log: TransparencyLog, where: string): Checkpoint {
  const separator = envelope.indexOf('\n\n');
  if (separator < 0) throw malformed(where, 'no blank line between note and signatures');
  const note = envelope.slice(0, separator + 1);
  const noteBytes = new TextEncoder().encode(note);
  const hint = log.checkpointKeyId.subarray(0, 4);
  const signed = envelope
    .slice(separator + 2)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => SIGNATURE_LINE.exec(line))
    .map((match) => (match ? new Uint8Array(Buffer.from(match[2]!, 'base64')) : undefined))
    .some((bytes) => bytes !== undefined && bytes.length > 4 && bytesEqual(bytes.subarray(0, 4), hint) &&
      verifySignature(log.key, noteBytes, bytes.subarray(4)));
  if (!signed) {
    throw new SigwardError('TLOG_INVALID', `${where}: checkpoint is not signed by the key of ${log.baseUrl}`);
  }
  return parseNote(note, where);
}

function parseNote(note: string, where: string): Checkpoint {
  const [origin, size, root] = note.split('\n');
  if (!origin) throw malformed(where, 'no origin line');
  if (size === undefined || !TREE_SIZE.test(size)) throw malformed(where, 'tree size is not a decimal number');
  const rootHash = new Uint8Array(Buffer.from(root ?? '', 'base64'));
  if (rootHash.length !== 32) throw malformed(where, 'root hash is not 32 base64 bytes');
  return { origin, treeSize: BigInt(size), rootHash };
}

function malformed(where: string, what: string): SigwardError {
  return new SigwardError('TLOG_INVALID', `${where}: checkpoint is malformed: ${what}`);
}
