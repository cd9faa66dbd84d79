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

/** Reads a PEM key from a Secret; `undefined` when the Secret or its key does not exist. Only a
 * cluster has one (the kube module); files given to `--policy-file` may use `key.data` only. */
export type KeyResolver = (ref: SecretKeyRef) => string | undefined;

export type KeySource = { readonly data: string } | { readonly secretRef: SecretKeyRef };

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

export interface AuthoritySpec {
  readonly name: string;
  readonly key: KeySource;
  /** As written; checked to parse with parseRepository. */
  readonly signatureRepository: string | undefined;
  readonly annotations: Readonly<Record<string, string>> | undefined;
}

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
  /** Cache key that changes whenever the policy or one of its keys changes. */
  readonly identity: string;
  readonly mode: PolicyMode;
  readonly threshold: number;
  readonly authorities: readonly Authority[];
  readonly globs: readonly CompiledGlob[];
  readonly namespaceSelector: CompiledSelector;
  readonly source: string;
}

/** Why one authority of a failing policy did not verify. */
export interface AuthorityFailure {
  readonly authority: string;
  readonly failures: readonly { readonly code: ErrorCode; readonly message: string }[];
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
