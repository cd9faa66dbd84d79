import type { ImageDecision, ImageEvaluator, ImageUse, ReviewRequest } from './types.js';

/**
 * One decision per image use, in the order of the uses. A use the evaluator left without a
 * decision (or answered for another image) is denied: an image nobody decided on is not admitted.
 */
export function completeDecisions(uses: readonly ImageUse[], decisions: readonly ImageDecision[]): ImageDecision[] {
  const byPath = new Map<string, ImageDecision>();
  for (const decision of decisions) byPath.set(decision.use.path, decision);
  return uses.map((use) => {
    const decision = byPath.get(use.path);
    if (decision !== undefined && decision.use.image === use.image) return decision;
    return denial(use, 'no verification decision was made for this image');
  });
}

/**
 * The decisions for uses whose checks did not finish (a timeout, or a failure of the verifier
 * as a whole): each is decided by the evaluator as failed for `reason` when it can say how,
 * else denied. An unfinished image is never allowed by a policy that matched it.
 */
export function unfinished(
  uses: readonly ImageUse[],
  reason: string,
  evaluator?: Pick<ImageEvaluator, 'decideUnfinished'>,
  request?: ReviewRequest,
): ImageDecision[] {
  return uses.map((use) => {
    if (evaluator?.decideUnfinished === undefined || request === undefined) return denial(use, reason);
    try {
      const decision = evaluator.decideUnfinished(use.image, request, reason);
      if (decision.action === 'allow' && decision.policies.length > 0) return denial(use, reason);
      return { use, ...decision };
    } catch {
      return denial(use, reason);
    }
  });
}

/** The same denial for every use. */
export function denyAll(uses: readonly ImageUse[], reason: string): ImageDecision[] {
  return unfinished(uses, reason);
}

function denial(use: ImageUse, reason: string): ImageDecision {
  return { use, action: 'deny', policies: [], reasons: [reason] };
}
