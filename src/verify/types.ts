import type { PublicKey } from '../crypto/types.js';
import type { ErrorCode } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { CredentialProvider } from '../registry/types.js';
import type { VerifiedSignature } from '../cosign/types.js';

/** A party whose signature a policy accepts: one key, and how to find and bind its signatures. */
export interface Authority {
  readonly name: string;
  readonly key: PublicKey;
  /** Where signatures are stored instead of the image's own repository (COSIGN_REPOSITORY). */
  readonly signatureRepository?: Repository;
  /** Payload `optional` fields (legacy) or subject annotations (bundle) that must be equal. */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface AuthorityVerdict {
  readonly authority: string;
  readonly verified: boolean;
  /** The signatures that verified (empty when none did). */
  readonly signatures: readonly VerifiedSignature[];
  /** Why it did not verify: one line per signature tried, or why none could be found. */
  readonly failures: readonly { readonly code: ErrorCode; readonly message: string }[];
}

export interface VerifyOptions {
  readonly signal?: AbortSignal;
  readonly credentials?: CredentialProvider;
}
