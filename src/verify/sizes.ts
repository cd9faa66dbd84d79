import type { AuthorityVerdict } from './types.js';
import type { Discovery } from './discover.js';

/** What an object takes besides the bytes it holds; rough, on the side of too much. */
const OVERHEAD_BYTES = 256;

/** The bytes a cached discovery holds: every candidate's payload, signature and annotations. */
export function discoverySize(discovery: Discovery): number {
  let total = OVERHEAD_BYTES;
  for (const candidate of discovery.candidates) {
    total += OVERHEAD_BYTES + candidate.payload.length + candidate.signature.length;
    for (const [key, value] of Object.entries(candidate.annotations)) total += 2 * (key.length + value.length);
  }
  for (const failure of discovery.failures) total += OVERHEAD_BYTES + 2 * failure.message.length;
  return total;
}

/** The bytes cached verdicts hold: the verified payloads and the failure messages. */
export function verdictsSize(verdicts: readonly AuthorityVerdict[]): number {
  let total = OVERHEAD_BYTES;
  for (const verdict of verdicts) {
    total += OVERHEAD_BYTES;
    for (const signature of verdict.signatures) total += OVERHEAD_BYTES + signature.payload.length;
    for (const failure of verdict.failures) total += OVERHEAD_BYTES + 2 * failure.message.length;
  }
  return total;
}
