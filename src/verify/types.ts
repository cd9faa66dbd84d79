import type { PublicKey } from '../crypto/types.js';
import type { ErrorCode } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { CredentialProvider } from '../registry/types.js';
import type { VerifiedSignature } from '../cosign/types.js';
import type { KeylessAuthority as KeylessTrust, RekorTrust } from '../sigstore/types.js';

/** What every authority has besides its signer: where its signatures live and what they must say. */
interface AuthorityBase {
  readonly name: string;
  /** Where signatures are stored instead of the image's own repository (COSIGN_REPOSITORY). */
  readonly signatureRepository?: Repository;
  /** Payload `optional` fields (legacy) or subject annotations (bundle) that must be equal. */
  readonly annotations?: Readonly<Record<string, string>>;
  /**
   * When set, the authority is satisfied by an attestation of this in-toto predicate type
   * (signed by the same key or identity, naming the digest) instead of a plain signature.
   */
  readonly attestation?: { readonly predicateType: string };
  /**
   * Credentials for this authority's signatures (the policy's `signaturePullSecrets`), tried
   * before the review's own. `scope` names them by content: discoveries made with them are cached
   * under it, apart from those made without.
   */
  readonly signatureCredentials?: { readonly provider: CredentialProvider; readonly scope: string };
}

/**
 * Trusts one public key. Without `rekor` signatures verify offline (cosign
 * `--insecure-ignore-tlog`); with it, each one must also carry a transparency-log entry proven
 * by those Rekor keys (the legacy `dev.sigstore.cosign/bundle` SET, or the bundle's entries).
 */
export interface KeyAuthority extends AuthorityBase {
  readonly key: PublicKey;
  readonly rekor?: RekorTrust;
  readonly keyless?: undefined;
}

/** Trusts a Fulcio certificate identity (issuer and subject) under a trusted root. */
export interface KeylessAuthority extends AuthorityBase {
  readonly keyless: KeylessTrust;
  readonly key?: undefined;
  readonly rekor?: undefined;
}

/** A party whose signature a policy accepts: exactly one key, or one keyless identity. */
export type Authority = KeyAuthority | KeylessAuthority;

export interface AuthorityVerdict {
  readonly authority: string;
  readonly verified: boolean;
  /** The signatures that verified (empty when none did). */
  readonly signatures: readonly VerifiedSignature[];
  /**
   * Why it did not verify: one line per signature tried, or why none could be found. A long
   * list ends in one entry that stands for the rest: `more` says how many it stands for.
   */
  readonly failures: readonly { readonly code: ErrorCode; readonly message: string; readonly more?: number }[];
}

/**
 * Where a review's time goes (`sigward_verification_phase_seconds{phase}`): resolving a tag,
 * discovering and fetching signatures, checking them, folding verdicts into a decision, and a
 * decision answered whole from the caches. A phase is recorded only when its work was done.
 */
export type VerificationPhase = 'resolve' | 'discover' | 'verify' | 'decide' | 'cached';

export interface VerifyOptions {
  readonly signal?: AbortSignal;
  readonly credentials?: CredentialProvider | readonly CredentialProvider[];
}
