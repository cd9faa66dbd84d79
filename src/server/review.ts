import { completeDecisions, denyAll, unfinished } from '../admission/complete.js';
import { decodeRequest, type ReviewEnvelope } from '../admission/decode.js';
import { extractImages } from '../admission/extract.js';
import { changedUses, isTerminating } from '../admission/lifecycle.js';
import { allowAnswer, decisionsAnswer, denyAnswer, type ReviewAnswer } from '../admission/response.js';
import type { ImageEvaluator, ImageUse, ReviewRequest } from '../admission/types.js';
import { describeError, errorCode } from '../errors.js';
import { raceDeadline, timeoutReason, type DeadlinePolicy } from './deadline.js';

export interface ReviewSettings {
  readonly evaluator: ImageEvaluator;
  readonly maxImages: number;
  readonly deadline: DeadlinePolicy;
  readonly mutateWorkloads: boolean;
}

/** An answer plus the request it answers, when the request could be read (for logs). */
export interface ReviewOutcome extends ReviewAnswer {
  readonly request: ReviewRequest | undefined;
}

export type MaybePromise<T> = T | Promise<T>;

/** A request whose images need a decision, or the outcome when the review ends early. */
export type Prepared = { readonly request: ReviewRequest; readonly uses: readonly ImageUse[] } | { readonly outcome: ReviewOutcome };

/**
 * Decodes the request and lists the images to judge. A request that cannot be read is denied
 * naming the field (it has a uid, so it can be answered; docs/design.md §3). DELETE, CONNECT and an
 * UPDATE of an object being deleted are admitted with no lookups: they start no container. On
 * UPDATE only images whose field changed are judged (docs/design.md §3 "Lifecycle").
 */
export function prepare(envelope: ReviewEnvelope, settings: ReviewSettings): Prepared {
  let request: ReviewRequest;
  try {
    request = decodeRequest(envelope);
  } catch (error) {
    return { outcome: { ...denyAnswer(envelope.uid, [describeError(error)]), request: undefined } };
  }
  if (request.operation === 'DELETE' || request.operation === 'CONNECT' || isTerminating(request)) {
    return { outcome: { ...allowAnswer(request.uid), request } };
  }
  try {
    const uses = changedUses(request, extractImages(request, { maxImages: settings.maxImages }));
    if (uses.length === 0) return { outcome: { ...allowAnswer(request.uid), request } };
    return { request, uses };
  } catch (error) {
    return { outcome: { ...denyAnswer(request.uid, [describeError(error)]), request } };
  }
}

/** POST /validate: synchronous when the evaluator answers from cache, else raced against the deadline. */
export function validate(envelope: ReviewEnvelope, settings: ReviewSettings, startedAt: number): MaybePromise<ReviewOutcome> {
  const prepared = prepare(envelope, settings);
  if ('outcome' in prepared) return prepared.outcome;
  const { request, uses } = prepared;
  return guarded(request, uses, () => {
    const cached = settings.evaluator.evaluateCached?.(uses, request);
    if (cached !== undefined) return { ...decisionsAnswer(request.uid, completeDecisions(uses, cached)), request };
    return evaluateBeforeDeadline(request, uses, settings, startedAt);
  });
}

async function evaluateBeforeDeadline(
  request: ReviewRequest,
  uses: readonly ImageUse[],
  settings: ReviewSettings,
  startedAt: number,
): Promise<ReviewOutcome> {
  const work = (signal: AbortSignal) => settings.evaluator.evaluate(uses, request, signal);
  const raced = await raceDeadline(work, remainingMs(settings.deadline, startedAt), settings.deadline);
  const decisions = raced.finished
    ? completeDecisions(uses, raced.value)
    : unfinished(uses, timeoutReason(settings.deadline), settings.evaluator, request);
  return { ...decisionsAnswer(request.uid, decisions), request };
}

export function remainingMs(policy: DeadlinePolicy, startedAt: number): number {
  return policy.budgetMs - (performance.now() - startedAt);
}

/**
 * Any exception while deciding, thrown or rejected, becomes a denial naming it: a 500 would
 * hand the decision to the webhook's failurePolicy, which may be Ignore.
 */
export function guarded(request: ReviewRequest, uses: readonly ImageUse[], run: () => MaybePromise<ReviewOutcome>): MaybePromise<ReviewOutcome> {
  const failed = (error: unknown): ReviewOutcome => {
    const reason = `could not be checked: ${describeError(error)} (${errorCode(error)})`;
    return { ...decisionsAnswer(request.uid, denyAll(uses, reason)), request };
  };
  try {
    const result = run();
    return result instanceof Promise ? result.catch(failed) : result;
  } catch (error) {
    return failed(error);
  }
}
