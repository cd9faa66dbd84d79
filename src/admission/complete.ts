import type { ImageDecision, ImageUse } from './types.js';

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

/** The same denial for every use: a timeout or a failure of the verifier as a whole. */
export function denyAll(uses: readonly ImageUse[], reason: string): ImageDecision[] {
  return uses.map((use) => denial(use, reason));
}

function denial(use: ImageUse, reason: string): ImageDecision {
  return { use, action: 'deny', policies: [], reasons: [reason] };
}
