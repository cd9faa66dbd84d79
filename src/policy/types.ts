import type { PlatformRule } from './platforms.js';
import type { ErrorCode } from '../errors.js';
import type { Authority } from '../verify/types.js';

export type PolicyKind = 'ClusterImagePolicy' | 'ImagePolicy';

/** enforce denies, warn admits with AdmissionReview warnings, audit admits and records. */
export type PolicyMode = 'enforce' | 'warn' | 'audit';

/** What `--no-match` answers for an image no policy matches. */
export type NoMatchAction = 'deny' | 'warn' | 'allow';

/** A key held in a Kubernetes Secret: `data[key]` of Secret `namespace/name`. */
export interface SecretKeyRef {
  readonly name: string;
  readonly namespace: string;
  readonly key: string;
}

/** Reads one entry of a Secret's data (a PEM key, or a trusted root's JSON); `undefined` when the
 * Secret or its key does not exist. Only a cluster has one (the kube module); files given to
 * `--policy-file` may use inline `data` only. */
export type KeyResolver = (ref: SecretKeyRef) => string | undefined;

export type KeySource = { readonly data: string } | { readonly secretRef: SecretKeyRef };

/** A `trusted_root.json` (Fulcio CAs, CT logs, Rekor logs, timestamp authorities), inline or from a Secret. */
export type TrustedRootSource = { readonly data: string } | { readonly secretRef: SecretKeyRef };

/** A Fulcio certificate identity: the OIDC issuer exactly, and the subject exactly or by an anchored pattern. */
export interface KeylessSpec {
  readonly issuer: string;
  readonly subject: string | undefined;
  readonly subjectRegExp: string | undefined;
  /** Undefined: the public-good trusted root sigward ships (data/PROVENANCE.md). */
  readonly trustedRoot: TrustedRootSource | undefined;
}

/** The Rekor log a key authority's signatures must be recorded in (sigward extension). */
export interface RekorSpec {
  /** PEM public key of the log. */
  readonly publicKey: string;
}

/** An in-toto attestation the authority must have signed for the image (sigward extension). */
export interface AttestationSpec {
  readonly predicateType: string;
}

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values: readonly string[];
}

/** A metav1.LabelSelector. Both parts empty selects everything. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

interface AuthoritySpecBase {
  readonly name: string;
  /** As written; checked to parse with parseRepository. */
  readonly signatureRepository: string | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
  /** At most one entry (the verifier checks one predicate type per authority). */
  readonly attestations: readonly AttestationSpec[] | undefined;
  /** Names of docker config Secrets whose credentials read this authority's signatures (sigward extension). */
  readonly signaturePullSecrets?: readonly string[] | undefined;
}

/** An authority that trusts one key, and optionally requires its signatures to be in a Rekor log. */
export interface KeyAuthoritySpec extends AuthoritySpecBase {
  readonly key: KeySource;
  readonly rekor: RekorSpec | undefined;
  readonly keyless?: undefined;
}

/** An authority that trusts a keyless (Fulcio certificate) identity under a trusted root (sigward extension). */
export interface KeylessAuthoritySpec extends AuthoritySpecBase {
  readonly keyless: KeylessSpec;
  readonly key?: undefined;
  readonly rekor?: undefined;
}

/** Exactly one of a key and a keyless identity. */
export type AuthoritySpec = KeyAuthoritySpec | KeylessAuthoritySpec;

/** A policy document after validation: every field present, typed, and in range. */
export interface PolicySpec {
  readonly kind: PolicyKind;
  readonly name: string;
  /** The namespace of an ImagePolicy; always undefined for a ClusterImagePolicy. */
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
  /** Where the document came from, for messages: `file.yaml#2 (ClusterImagePolicy acme)`. */
  readonly source: string;
  readonly images: readonly string[];
  readonly mode: PolicyMode;
  readonly threshold: number;
  readonly namespaceSelector: LabelSelector | undefined;
  /** Which manifests of a multi-platform image must verify (default: the index). */
  readonly platforms: PlatformRule;
  readonly authorities: readonly AuthoritySpec[];
}

export interface CompiledGlob {
  /** The glob as written in the policy. */
  readonly glob: string;
  /** The glob with its registry normalized (`nginx` → `docker.io/library/nginx`). */
  readonly normalized: string;
  /** The glob's meaning as an anchored RegExp, for people and logs. Matching uses `matches`,
   * which runs in linear time where a backtracking RegExp may not. */
  readonly regex: RegExp;
  matches(name: string): boolean;
}

export interface CompiledSelector {
  /** True for an absent or empty selector, which selects every namespace. */
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

export interface CompiledPolicy {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly namespace: string | undefined;
  /** Cache key that changes whenever the policy, one of its keys or one of its trusted roots changes. */
  readonly identity: string;
  readonly mode: PolicyMode;
  readonly threshold: number;
  readonly platforms: PlatformRule;
  readonly authorities: readonly Authority[];
  /**
   * Authorities whose key or trusted root Secret is gone or holds nothing usable (in a cluster):
   * they fail at once, with this reason, and still count toward the policy's authorities.
   */
  readonly revoked?: readonly { readonly authority: string; readonly reason: string }[];
  readonly globs: readonly CompiledGlob[];
  readonly namespaceSelector: CompiledSelector;
  readonly source: string;
}

/** Why one authority of a failing policy did not verify. */
export interface AuthorityFailure {
  readonly authority: string;
  /** As the verdict lists them; an entry with `more` stands for that many failures not listed. */
  readonly failures: readonly { readonly code: ErrorCode; readonly message: string; readonly more?: number }[];
}

/** The outcome of one policy for one image. */
export interface PolicyResult {
  readonly policy: string;
  readonly kind: PolicyKind;
  readonly namespace: string | undefined;
  readonly mode: PolicyMode;
  readonly threshold: number;
  readonly passed: boolean;
  /** Names of the authorities that verified. */
  readonly verified: readonly string[];
  /** The authorities that did not verify, with their failures (empty when the policy passed). */
  readonly failed: readonly AuthorityFailure[];
  /** One line for people: `policy acme (enforce): 0 of 1 authorities verified, 1 required; …`. */
  readonly message: string;
}

/** allow admits; warn admits with warnings; audit admits and records; deny refuses. */
export type ImageAction = 'allow' | 'warn' | 'audit' | 'deny';

export interface ImageDecision {
  readonly action: ImageAction;
  /** False when no policy matched the image and `--no-match` decided. */
  readonly matched: boolean;
  /** True when every matching policy passed (false when none matched). */
  readonly passed: boolean;
  readonly results: readonly PolicyResult[];
  /** One line per failing policy (or the no-match reason), most severe mode first. */
  readonly reasons: readonly string[];
}
