/** The parts of an AdmissionReview request sigward reads, parsed and narrowed at the boundary. */
export interface ReviewRequest {
  readonly uid: string;
  readonly kind: { readonly group: string; readonly version: string; readonly kind: string };
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly subResource: string | undefined;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly operation: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';
  readonly dryRun: boolean;
  /** The object being admitted (the new object on UPDATE); undefined on DELETE. */
  readonly object: Readonly<Record<string, unknown>> | undefined;
  /** On UPDATE, the object as it was: images it already ran are not judged again. */
  readonly oldObject?: Readonly<Record<string, unknown>> | undefined;
}

/** One image named by the admitted object. */
export interface ImageUse {
  /** Field path for people: `spec.template.spec.initContainers[0].image`. */
  readonly path: string;
  /** JSON pointer for patches: `/spec/template/spec/initContainers/0/image`. */
  readonly pointer: string;
  /** The reference exactly as written. */
  readonly image: string;
  /** True for a Pod's own containers (pinned by /mutate by default); false inside workload templates. */
  readonly inPod: boolean;
  /** The container's `name`, when the image is a container's (not an image volume's). */
  readonly container?: string;
}

export type ImageAction = 'allow' | 'deny' | 'warn' | 'audit';

/** The verdict for one image use, with everything a message needs. */
export interface ImageDecision {
  readonly use: ImageUse;
  readonly action: ImageAction;
  /** Normalized reference (`registry/repo:tag@digest`) when it parsed. */
  readonly reference?: string;
  /** The digest that was (or would have been) verified. */
  readonly digest?: string;
  /** Policies that matched, by `Kind/name` (or `namespace/name`). */
  readonly policies: readonly string[];
  /** One line per failing policy or cause, for people. */
  readonly reasons: readonly string[];
}

/** What the server needs from the verification engine; implemented in src/verify/. */
export interface ImageEvaluator {
  /** Decides every image of one review; never rejects: failures become deny decisions. */
  evaluate(images: readonly ImageUse[], request: ReviewRequest, signal: AbortSignal): Promise<readonly ImageDecision[]>;
  /** Resolves a reference to its digest through the same cache `evaluate` uses (for /mutate). */
  resolveDigest(image: string, request: ReviewRequest, signal: AbortSignal): Promise<string>;
  /** True once policies are loaded (and, in a cluster, synced). */
  ready(): boolean;
  /**
   * Optional synchronous fast path: every decision when all of them can be made from cache,
   * else undefined (the server then calls `evaluate`). Must start no I/O and never throw for a
   * cache miss. Lets a cached review be answered with no promise, timer or AbortController.
   */
  evaluateCached?(images: readonly ImageUse[], request: ReviewRequest): readonly ImageDecision[] | undefined;
  /**
   * The decision for an image whose checks could not finish (the deadline passed, or the
   * evaluation failed as a whole): its matching policies each fail with `reason`, and their modes
   * decide, so the answer names the policies and a warn- or audit-only image is not denied.
   */
  decideUnfinished?(image: string, request: ReviewRequest, reason: string): Omit<ImageDecision, 'use'>;
  /** Whether some policy applicable to the request covers the image (pure: no I/O). */
  covers(image: string, request: ReviewRequest): boolean;
  /** Optional synchronous fast path for /mutate: the cached digest of a reference, else undefined. */
  resolveDigestCached?(image: string, request: ReviewRequest): string | undefined;
}
