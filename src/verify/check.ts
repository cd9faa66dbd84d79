import { verifyLegacySignature } from '../cosign/index.js';
import type { SignatureCandidate, VerifiedSignature } from '../cosign/types.js';
import { describeError, errorCode, type ErrorCode } from '../errors.js';
import type { Authority } from './types.js';

export type CheckOutcome =
  | { readonly ok: true; readonly signature: VerifiedSignature }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** Checks one signature against one authority: key, digest binding, required annotations. */
export function checkSignature(candidate: SignatureCandidate, authority: Authority, digest: string): CheckOutcome {
  try {
    const signature = verifyLegacySignature(candidate, authority.key, {
      digest,
      ...(authority.annotations ? { annotations: authority.annotations } : {}),
    });
    return { ok: true, signature };
  } catch (err) {
    return { ok: false, code: errorCode(err), message: describeError(err) };
  }
}
