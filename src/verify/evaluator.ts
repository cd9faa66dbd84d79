import type { ImageDecision, ImageEvaluator, ImageUse, ReviewRequest } from '../admission/types.js';
import type { TtlCache } from '../cache/ttl-cache.js';
import { describeError, errorCode } from '../errors.js';
import { decide, matchPolicies, type CompiledPolicy, type NoMatchAction, type PolicyResult, type PolicyVerdicts } from '../policy/index.js';
import { exemptionFor, type CompiledExemption } from '../policy/exemption.js';
import { formatReference, parseReference } from '../reference/index.js';
import type { ImageReference } from '../reference/types.js';
import type { CredentialProvider } from '../registry/types.js';
import { sharedLoad } from './shared-load.js';
import { DEFAULT_LOAD_BUDGET_MS, type Verifier } from './verifier.js';
import type { AuthorityVerdict, VerificationPhase, VerifyOptions } from './types.js';

/** The policies in force now; a file list or the cluster's custom resources. */
export interface PolicySource {
  policies(): readonly CompiledPolicy[];
  ready(): boolean;
  /** Labels of a namespace when known (for namespaceSelector); undefined when not known. */
  namespaceLabels?(namespace: string): Readonly<Record<string, string>> | undefined;
}

/** Registry credentials for one review (in a cluster: the pod's pull secrets, then a global one). */
export interface ReviewCredentials {
  readonly provider: CredentialProvider | undefined;
  /**
   * Set when the credentials came from the pod's own Secrets: a short hash of them. Digests,
   * signatures and verdicts loaded with them are cached under this scope only, so a review with
   * other credentials (or none) is never answered from what a registry told these: a denial cached
   * for an anonymous pull, or a tag that resolves differently per account. Undefined: only the
   * credentials every review shares, and the shared caches.
   */
  readonly scope: string | undefined;
}

export interface ReviewCredentialSource {
  /** The credentials of one review; never rejects (a Secret that cannot be read is left out). */
  forReview(request: ReviewRequest, signal: AbortSignal): Promise<ReviewCredentials>;
  /** The same answer synchronously when it is known without I/O, for the cached fast path. */
  peek(request: ReviewRequest): ReviewCredentials | undefined;
}

/** One image decided, with each matching policy's result: what audit records are made of. */
export interface DecidedImage {
  readonly image: string;
  readonly reference: string;
  readonly digest: string | undefined;
  readonly results: readonly PolicyResult[];
  /** What the image would have been without an exemption, and the exemption that admitted it. */
  readonly exempted?: { readonly exemption: string; readonly reason: string; readonly expires: number; readonly withoutIt: readonly string[] };
}

export interface EvaluatorOptions {
  readonly verifier: Verifier;
  readonly policies: PolicySource;
  readonly noMatch: NoMatchAction;
  /** tag → digest, shared with the verifier so /mutate pins what /validate verified. */
  readonly digests: TtlCache<string, string>;
  /** Authority verdicts keyed by policy identity, repository and digest. */
  readonly verdicts: TtlCache<string, readonly AuthorityVerdict[]>;
  /** Images of one review verified at once. */
  readonly concurrency?: number;
  /** How long a shared verification may run under its own signal (see sharedLoad). */
  readonly loadBudgetMs?: number;
  /** Per-review registry credentials; needs `scopedVerifier` for the reviews they give a scope. */
  readonly credentials?: ReviewCredentialSource;
  /** A verifier whose digest and signature caches key their entries under `scope` (see scopedKey). */
  readonly scopedVerifier?: (scope: string) => Verifier;
  /** Told how long folding took, and how long a decision answered whole from cache took (metrics). */
  readonly onPhase?: (phase: VerificationPhase, seconds: number) => void;
  /** Told of every image decided, the cached path included; must return at once (no I/O). */
  readonly onDecided?: (request: ReviewRequest, decided: DecidedImage) => void;
  /** Break-glass exemptions in force (a cluster's ImageExemption objects); none by default. */
  readonly exemptions?: () => readonly CompiledExemption[];
  /** Told of every use of an exemption (the image would otherwise have been denied or warned). */
  readonly onExempted?: (request: ReviewRequest, decided: DecidedImage, exemption: CompiledExemption) => void;
}

const SHARED: ReviewCredentials = { provider: undefined, scope: undefined };

/**
 * Decides the images of one admission review: parse, match policies, resolve the digest, verify
 * each matching policy's authorities (cached by policy identity and digest, so an edited policy
 * takes effect at once), and fold the verdicts. Never rejects: every failure is a decision.
 */
export class Evaluator implements ImageEvaluator {
  private readonly loadBudgetMs: number;

  constructor(private readonly options: EvaluatorOptions) {
    this.loadBudgetMs = options.loadBudgetMs ?? DEFAULT_LOAD_BUDGET_MS;
    if (options.credentials !== undefined && options.scopedVerifier === undefined) {
      throw new Error('Evaluator: per-review credentials need a scopedVerifier');
    }
  }

  ready(): boolean {
    return this.options.policies.ready();
  }

  async evaluate(images: readonly ImageUse[], request: ReviewRequest, signal: AbortSignal): Promise<readonly ImageDecision[]> {
    const byImage = new Map<string, Promise<Omit<ImageDecision, 'use'>>>();
    const limit = limiter(this.options.concurrency ?? 8);
    // Policies are matched before anything is asked of anyone: an image no policy covers gets
    // the no-match answer with no I/O, not even a read of the pod's pull secrets.
    const covered = images.some((use) => this.covers(use.image, request));
    const credentials = covered ? await this.credentialsFor(request, signal) : SHARED;
    for (const use of images) {
      if (!byImage.has(use.image)) byImage.set(use.image, limit(() => this.decideImage(use.image, request, credentials, signal)));
    }
    return Promise.all(images.map(async (use) => ({ use, ...(await byImage.get(use.image)!) })));
  }

  /**
   * Whether a policy applicable in the request's namespace covers the image: only then does
   * sigward resolve, pin or look up anything for it (docs/design.md §3 "Scope"). A reference that does
   * not parse is covered by none.
   */
  covers(image: string, request: ReviewRequest): boolean {
    const ref = tryParse(image);
    return ref !== undefined && this.matching(ref, request).length > 0;
  }

  /** The synchronous fast path: every answer from cache, or undefined to take the slow path. */
  evaluateCached(images: readonly ImageUse[], request: ReviewRequest): readonly ImageDecision[] | undefined {
    const credentials = this.peekCredentials(request);
    if (credentials === undefined) return undefined;
    const started = performance.now();
    const decisions: ImageDecision[] = [];
    for (const use of images) {
      const decision = this.decideCached(use.image, request, credentials);
      if (decision === undefined) return undefined;
      decisions.push({ use, ...decision });
    }
    this.options.onPhase?.('cached', (performance.now() - started) / 1000);
    return decisions;
  }

  async resolveDigest(image: string, request: ReviewRequest, signal: AbortSignal): Promise<string> {
    const ref = parseReference(image);
    const credentials = await this.credentialsFor(request, signal);
    return this.verifierFor(credentials).resolve(ref, verifyOptions(credentials, signal));
  }

  resolveDigestCached(image: string, request?: ReviewRequest): string | undefined {
    const ref = tryParse(image);
    if (ref === undefined) return undefined;
    if (ref.digest !== undefined) return ref.digest;
    const credentials = this.peekCredentials(request);
    if (credentials === undefined) return undefined;
    return this.options.digests.peek(scopedKey(credentials.scope, digestKey(ref)));
  }

  /**
   * An image whose checks did not finish: each matching policy fails with `reason` and their
   * modes decide (enforce denies, warn warns, audit records), naming the policies.
   */
  decideUnfinished(image: string, request: ReviewRequest, reason: string): Omit<ImageDecision, 'use'> {
    const ref = tryParse(image);
    if (ref === undefined) return { action: 'deny', policies: [], reasons: [reason] };
    const matching = this.matching(ref, request);
    const failure = { code: 'DEADLINE_EXCEEDED' as const, message: reason };
    const credentials = this.peekCredentials(request);
    // The digest this review's credentials resolved, if any; never one another scope's credentials saw.
    const digest = ref.digest ?? (credentials === undefined ? undefined : this.options.digests.peek(scopedKey(credentials.scope, digestKey(ref))));
    return this.fold({ image, request }, ref, digest, matching.map((policy) => ({ policy, verdicts: failedVerdicts(policy, failure) })));
  }

  /** The review's credentials when known without I/O; undefined when only a lookup could tell. */
  private peekCredentials(request: ReviewRequest | undefined): ReviewCredentials | undefined {
    if (this.options.credentials === undefined) return SHARED;
    return request === undefined ? undefined : this.options.credentials.peek(request);
  }

  private async credentialsFor(request: ReviewRequest, signal: AbortSignal): Promise<ReviewCredentials> {
    return this.options.credentials === undefined ? SHARED : this.options.credentials.forReview(request, signal);
  }

  private verifierFor(credentials: ReviewCredentials): Verifier {
    if (credentials.scope === undefined) return this.options.verifier;
    return this.options.scopedVerifier!(credentials.scope);
  }

  private async decideImage(
    image: string,
    request: ReviewRequest,
    credentials: ReviewCredentials,
    signal: AbortSignal,
  ): Promise<Omit<ImageDecision, 'use'>> {
    let ref: ImageReference;
    try {
      ref = parseReference(image);
    } catch (err) {
      return { action: 'deny', policies: [], reasons: [`${describeError(err)} (${errorCode(err)})`] };
    }
    const matching = this.matching(ref, request);
    const seen = { image, request };
    if (matching.length === 0) return this.fold(seen, ref, undefined, []);
    const verifier = this.verifierFor(credentials);
    const options = verifyOptions(credentials, signal);
    let digest: string;
    try {
      digest = await verifier.resolve(ref, options);
    } catch (err) {
      const failure = { code: errorCode(err), message: `cannot resolve the digest: ${describeError(err)}` };
      return this.fold(seen, ref, undefined, matching.map((policy) => ({ policy, verdicts: failedVerdicts(policy, failure) })));
    }
    const evaluations = await Promise.all(
      matching.map(async (policy) => {
        try {
          const load = (loadSignal: AbortSignal): Promise<readonly AuthorityVerdict[]> =>
            verifier.verifyForPolicy(ref, digest, policy.platforms, policy.authorities, { ...options, signal: loadSignal });
          const key = verdictKey(credentials.scope, policy, ref, digest);
          const verdicts = await sharedLoad(this.options.verdicts, key, load, signal, this.loadBudgetMs);
          return { policy, verdicts };
        } catch (err) {
          // Only a verification cut short rejects (this review's deadline, or the load's budget):
          // never cached, decided as unfinished.
          return { policy, verdicts: failedVerdicts(policy, { code: errorCode(err), message: describeError(err) }) };
        }
      }),
    );
    const folding = performance.now();
    const decided = this.fold(seen, ref, digest, evaluations);
    this.options.onPhase?.('decide', (performance.now() - folding) / 1000);
    return decided;
  }

  private decideCached(image: string, request: ReviewRequest, credentials: ReviewCredentials): Omit<ImageDecision, 'use'> | undefined {
    const ref = tryParse(image);
    if (ref === undefined) return undefined;
    const matching = this.matching(ref, request);
    const seen = { image, request };
    if (matching.length === 0) return this.fold(seen, ref, undefined, []);
    const digest = ref.digest ?? this.options.digests.peek(scopedKey(credentials.scope, digestKey(ref)));
    if (digest === undefined) return undefined;
    const evaluations: PolicyVerdicts[] = [];
    for (const policy of matching) {
      const verdicts = this.options.verdicts.peek(verdictKey(credentials.scope, policy, ref, digest));
      if (verdicts === undefined) return undefined;
      evaluations.push({ policy, verdicts });
    }
    return this.fold(seen, ref, digest, evaluations);
  }

  private matching(ref: ImageReference, request: ReviewRequest): CompiledPolicy[] {
    const { policies } = this.options;
    const labels = request.namespace === undefined ? undefined : policies.namespaceLabels?.(request.namespace);
    return matchPolicies(policies.policies(), ref, request.namespace, labels);
  }

  private exemption(ref: ImageReference, digest: string | undefined, request: ReviewRequest): CompiledExemption | undefined {
    const exemptions = this.options.exemptions?.();
    if (exemptions === undefined || exemptions.length === 0) return undefined;
    return exemptionFor(exemptions, ref, digest, request.namespace, Date.now());
  }

  private fold(
    seen: { image: string; request: ReviewRequest },
    ref: ImageReference,
    digest: string | undefined,
    evaluations: readonly PolicyVerdicts[],
  ): Omit<ImageDecision, 'use'> {
    const decision = decide(evaluations, { noMatch: this.options.noMatch });
    const reference = formatReference(ref);
    const policies = evaluations.map(({ policy }) => policyLabel(policy));
    const exemption = decision.action === 'deny' || decision.action === 'warn' ? this.exemption(ref, digest, seen.request) : undefined;
    if (exemption !== undefined) {
      const exempted = { exemption: exemption.name, reason: exemption.reason, expires: exemption.expires, withoutIt: decision.reasons };
      const decided: DecidedImage = { image: seen.image, reference, digest, results: decision.results, exempted };
      this.options.onDecided?.(seen.request, decided);
      this.options.onExempted?.(seen.request, decided, exemption);
      const until = new Date(exemption.expires).toISOString();
      const reasons = [`admitted by ImageExemption ${exemption.name} until ${until} (${exemption.reason}); without it: ${decision.reasons.join('; ')}`];
      return { action: 'warn', reference, ...(digest !== undefined ? { digest } : {}), policies: [...policies, `ImageExemption ${exemption.name}`], reasons };
    }
    this.options.onDecided?.(seen.request, { image: seen.image, reference, digest, results: decision.results });
    return {
      action: decision.action,
      reference,
      ...(digest !== undefined ? { digest } : {}),
      policies,
      reasons: decision.reasons,
    };
  }
}

export function digestKey(ref: ImageReference): string {
  return `${ref.name}:${ref.tag ?? 'latest'}`;
}

/** A cache key under a credential scope (ReviewCredentials.scope); the key itself when shared. */
export function scopedKey(scope: string | undefined, key: string): string {
  return scope === undefined ? key : `${scope}|${key}`;
}

/** The verdict depends on the policy as it is now, the repository (signatures live per repository), the
 * digest, and the credentials it was loaded with when they were the pod's own. */
function verdictKey(scope: string | undefined, policy: CompiledPolicy, ref: ImageReference, digest: string): string {
  return scopedKey(scope, `${policy.identity}|${ref.name}@${digest}`);
}

function verifyOptions(credentials: ReviewCredentials, signal: AbortSignal): VerifyOptions {
  return credentials.provider === undefined ? { signal } : { signal, credentials: credentials.provider };
}

export function policyLabel(policy: CompiledPolicy): string {
  return policy.kind === 'ImagePolicy' ? `ImagePolicy ${policy.namespace ?? ''}/${policy.name}` : `ClusterImagePolicy ${policy.name}`;
}

function failedVerdicts(policy: CompiledPolicy, failure: AuthorityVerdict['failures'][number]): AuthorityVerdict[] {
  return policy.authorities.map((a) => ({ authority: a.name, verified: false, signatures: [], failures: [failure] }));
}

function tryParse(image: string): ImageReference | undefined {
  try {
    return parseReference(image);
  } catch {
    return undefined;
  }
}

/** Runs at most `n` tasks at once. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    active--;
    queue.shift()?.();
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((resolve) => queue.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
