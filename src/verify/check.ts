import { verifyLegacySignature } from '../cosign/index.js';
import type { SignatureCandidate, VerifiedSignature } from '../cosign/types.js';
import { describeError, errorCode, type ErrorCode } from '../errors.js';
import { parseBundle, verifyImageBundle } from '../sigstore/index.js';
import type { Authority } from './types.js';

export type CheckOutcome =
  | { readonly ok: true; readonly signature: VerifiedSignature }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Checks one signature against one authority: key, digest binding, required annotations. */
export function checkSignature(candidate: SignatureCandidate, authority: Authority, digest: string): CheckOutcome {
  try {
    return { ok: true, signature: verifyCandidate(candidate, authority, digest) };
  } catch (err) {
    return { ok: false, code: errorCode(err), message: describeError(err) };
  }
}

function verifyCandidate(candidate: SignatureCandidate, authority: Authority, digest: string): VerifiedSignature {
  const expected = { digest, ...(authority.annotations ? { annotations: authority.annotations } : {}) };
  switch (candidate.format) {
    case 'legacy':
      return verifyLegacySignature(candidate, authority.key, expected);
    case 'bundle': {
      // The bundle's statement must name the admitted digest: the same binding as the legacy
      // payload's docker-manifest-digest, checked after the signature over the envelope.
      const verified = verifyImageBundle(parseBundle(candidate.payload), expected, { kind: 'key', key: authority.key });
      return { location: candidate.location, format: 'bundle', payload: verified.payload, keyId: authority.key.id };
    }
    default:
      throw new Error(`unknown signature format`);
  }
}
