import { SigwardError } from '../../errors.js';
import { verifySignature } from '../../crypto/verify.js';
import { hex } from '../keys.js';
import type { TlogEntry, TransparencyLog } from '../types.js';

/**
 * Verifies an entry's signed entry timestamp (Rekor v1's inclusion promise, cosign-spec §1.5)
 * and returns the integrated time it vouches for: the log key signs the RFC 8785 canonical JSON
 * of `{body, integratedTime, logID, logIndex}`. Integers are written from bigints so no index
 * loses precision; base64 and hex need no JSON escaping. A SET that does not verify with the
 * log's key (a forged SET, or a root naming another Rekor key) is TLOG_INVALID.
 */
export function verifySignedEntryTimestamp(entry: TlogEntry, set: Uint8Array, log: TransparencyLog, where: string): Date {
  if (entry.integratedTime === undefined) {
    throw new SigwardError('TLOG_INVALID', `${where}: has a signed entry timestamp but no integrated time`);
  }
  const payload =
    `{"body":"${Buffer.from(entry.body).toString('base64')}","integratedTime":${entry.integratedTime},` +
    `"logID":"${hex(entry.logId)}","logIndex":${entry.logIndex}}`;
  if (!verifySignature(log.key, new TextEncoder().encode(payload), set)) {
    throw new SigwardError('TLOG_INVALID', `${where}: signed entry timestamp does not verify with the key of ${log.baseUrl}`);
  }
  const time = new Date(Number(entry.integratedTime) * 1000);
  // A log key is trusted only for the period the root gives it: a retired key's signature
  // over a later time is the signature of whoever holds the retired key now.
  if ((log.validFrom && time < log.validFrom) || (log.validUntil && time > log.validUntil)) {
    throw new SigwardError('TLOG_INVALID', `${where}: integrated at ${time.toISOString()}, outside the validity of the key of ${log.baseUrl}`);
  }
  return time;
}
