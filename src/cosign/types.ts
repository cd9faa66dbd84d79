import type { ErrorCode } from '../errors.js';
import type { Descriptor } from '../registry/types.js';

/** One signature as found in the registry, before any check. */
export interface SignatureCandidate {
  /** Where it was found, for messages: `REPO:sha256-<hex>.sig layer 0` or `REPO@sha256:<referrer>`. */
  readonly location: string;
  readonly format: 'legacy' | 'bundle';
  /** legacy: the simple-signing layer; bundle: the bundle layer. */
  readonly descriptor: Descriptor;
  /** legacy: the payload blob bytes, checked against the layer digest and size. */
  readonly payload: Uint8Array;
  /** legacy: the decoded `dev.cosignproject.cosign/signature` annotation. */
  readonly signature: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
  /** Names the signature as stored (blob and annotations, see candidateFingerprint): equal
   * fingerprints are the same signature, checked once. */
  readonly fingerprint: string;
}

/** The parsed simple-signing payload (only after its signature verified). */
export interface SimpleSigningPayload {
  readonly critical: {
    readonly type: string;
    readonly image: { readonly 'docker-manifest-digest': string };
    readonly identity?: { readonly 'docker-reference'?: string };
  };
  readonly optional: Readonly<Record<string, unknown>> | null;
}

/** What one verified signature proves. */
export interface VerifiedSignature {
  readonly location: string;
  readonly format: 'legacy' | 'bundle';
  /** The exact signed payload bytes (for `verify --output json`). */
  readonly payload: Uint8Array;
  readonly keyId: string;
}

/** A signature that was found but could not be read, e.g. `REPO:sha256-<hex>.sig layer 2`. */
export interface SignatureFailure {
  readonly location: string;
  readonly code: ErrorCode;
  readonly message: string;
}

/** What the legacy `.sig` tag holds for one digest: readable signatures, and the layers that were not. */
export interface LegacyDiscovery {
  readonly candidates: readonly SignatureCandidate[];
  readonly failures: readonly SignatureFailure[];
}
