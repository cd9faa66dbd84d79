import type { ImageDecision, ImageEvaluator, ImageUse, ReviewRequest } from '../admission/types.js';
import type { TtlCache } from '../cache/ttl-cache.js';
import { describeError, errorCode } from '../errors.js';
import { decide, matchPolicies, type CompiledPolicy, type NoMatchAction, type PolicyVerdicts } from '../policy/index.js';
import { formatReference, parseReference } from '../reference/index.js';
import type { ImageReference } from '../reference/types.js';
import type { Verifier } from './verifier.js';
import type { AuthorityVerdict } from './types.js';

/** The policies in force now; a file list or the cluster's custom resources. */
export interface PolicySource {
  policies(): readonly CompiledPolicy[];
  ready(): boolean;
  /** Labels of a namespace when known (for namespaceSelector); undefined when not known. */
  namespaceLabels?(namespace: string): Readonly<Record<string, string>> | undefined;
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
}

/**
 * Decides the images of one admission review: parse, match policies, resolve the digest, verify
 * each matching policy's authorities (cached by policy identity and digest, so an edited policy
 * takes effect at once), and fold the verdicts. Never rejects: every failure is a decision.
 */
export class Evaluator implements ImageEvaluator {
  constructor(private readonly options: EvaluatorOptions) {}

  ready(): boolean {
    return this.options.policies.ready();
  }

  async evaluate(images: readonly ImageUse[], request: ReviewRequest, signal: AbortSignal): Promise<readonly ImageDecision[]> {
    const byImage = new Map<string, Promise<Omit<ImageDecision, 'use'>>>();
    const limit = limiter(this.options.concurrency ?? 8);
    for (const use of images) {
      if (!byImage.has(use.image)) byImage.set(use.image, limit(() => this.decideImage(use.image, request, signal)));
    }
    return Promise.all(images.map(async (use) => ({ use, ...(await byImage.get(use.image)!) })));
  }

  /** The synchronous fast path: every answer from cache, or undefined to take the slow path. */
  evaluateCached(images: readonly ImageUse[], request: ReviewRequest): readonly ImageDecision[] | undefined {
    const decisions: ImageDecision[] = [];
    for (const use of images) {
      const decision = this.decideCached(use.image, request);
      if (decision === undefined) return undefined;
      decisions.push({ use, ...decision });
    }
    return decisions;
  }

  async resolveDigest(image: string, _request: ReviewRequest, signal: AbortSignal): Promise<string> {
    return this.options.verifier.resolve(parseReference(image), { signal });
  }

  resolveDigestCached(image: string): string | undefined {
    const ref = tryParse(image);
    if (ref === undefined) return undefined;
    return ref.digest ?? this.options.digests.peek(digestKey(ref));
  }

  private async decideImage(image: string, request: ReviewRequest, signal: AbortSignal): Promise<Omit<ImageDecision, 'use'>> {
    let ref: ImageReference;
    try {
      ref = parseReference(image);
    } catch (err) {
      return { action: 'deny', policies: [], reasons: [`${describeError(err)} (${errorCode(err)})`] };
    }
    const matching = this.matching(ref, request);
    if (matching.length === 0) return this.fold(ref, undefined, []);
    let digest: string;
    try {
      digest = await this.options.verifier.resolve(ref, { signal });
    } catch (err) {
      const failure = { code: errorCode(err), message: `cannot resolve the digest: ${describeError(err)}` };
      return this.fold(ref, undefined, matching.map((policy) => ({ policy, verdicts: failedVerdicts(policy, failure) })));
    }
    const evaluations = await Promise.all(
      matching.map(async (policy) => ({ policy, verdicts: await this.verdicts(policy, ref, digest, signal) })),
    );
    return this.fold(ref, digest, evaluations);
  }

  private decideCached(image: string, request: ReviewRequest): Omit<ImageDecision, 'use'> | undefined {
    const ref = tryParse(image);
    if (ref === undefined) return undefined;
    const matching = this.matching(ref, request);
    if (matching.length === 0) return this.fold(ref, undefined, []);
    const digest = ref.digest ?? this.options.digests.peek(digestKey(ref));
    if (digest === undefined) return undefined;
    const evaluations: PolicyVerdicts[] = [];
    for (const policy of matching) {
      const verdicts = this.options.verdicts.peek(verdictKey(policy, ref, digest));
      if (verdicts === undefined) return undefined;
      evaluations.push({ policy, verdicts });
    }
    return this.fold(ref, digest, evaluations);
  }

  private matching(ref: ImageReference, request: ReviewRequest): CompiledPolicy[] {
    const { policies } = this.options;
    const labels = request.namespace === undefined ? undefined : policies.namespaceLabels?.(request.namespace);
    return matchPolicies(policies.policies(), ref, request.namespace, labels);
  }

  private verdicts(policy: CompiledPolicy, ref: ImageReference, digest: string, signal: AbortSignal): Promise<readonly AuthorityVerdict[]> {
    return this.options.verdicts.getOrLoad(verdictKey(policy, ref, digest), () =>
      this.options.verifier.verifyDigest(ref, digest, policy.authorities, { signal }),
    );
  }

  private fold(ref: ImageReference, digest: string | undefined, evaluations: readonly PolicyVerdicts[]): Omit<ImageDecision, 'use'> {
    const decision = decide(evaluations, { noMatch: this.options.noMatch });
    return {
      action: decision.action,
      reference: formatReference(ref),
      ...(digest !== undefined ? { digest } : {}),
      policies: evaluations.map(({ policy }) => policyLabel(policy)),
      reasons: decision.reasons,
    };
  }
}

export function digestKey(ref: ImageReference): string {
  return `${ref.name}:${ref.tag ?? 'latest'}`;
}

/** The verdict depends on the policy as it is now, the repository (signatures live per repository), and the digest. */
function verdictKey(policy: CompiledPolicy, ref: ImageReference, digest: string): string {
  return `${policy.identity}|${ref.name}@${digest}`;
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
