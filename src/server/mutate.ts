import type { ReviewEnvelope } from '../admission/decode.js';
import { needsPin, patchFields, pinPatch, type ImagePin } from '../admission/patch.js';
import { allowAnswer, denyAnswer } from '../admission/response.js';
import type { ImageUse, ReviewRequest } from '../admission/types.js';
import { describeError } from '../errors.js';
import { raceDeadline, timeoutReason } from './deadline.js';
import { guarded, prepare, remainingMs, type MaybePromise, type ReviewOutcome, type ReviewSettings } from './review.js';

/**
 * POST /mutate: pins each tag of a Pod (and of templates with `mutateWorkloads`) to the digest
 * `/validate` will verify, resolved through the evaluator's cache. A tag that cannot be
 * resolved is denied: admitting it unpinned would let the tag move between check and pull.
 * Only images a policy covers are pinned: an uncovered image stays as written, costs no
 * request, and gets its `--no-match` answer from `/validate`. On UPDATE only changed image
 * fields are pinned (prepare), so a metadata change never rewrites a running container's image.
 */
export function mutate(envelope: ReviewEnvelope, settings: ReviewSettings, startedAt: number): MaybePromise<ReviewOutcome> {
  const prepared = prepare(envelope, settings);
  if ('outcome' in prepared) return prepared.outcome;
  const { request } = prepared;
  const uses = prepared.uses.filter((use) => needsPin(use, settings) && settings.evaluator.covers(use.image, request));
  if (uses.length === 0) return { ...allowAnswer(request.uid), request };
  return guarded(request, uses, () => {
    const cached = cachedPins(uses, request, settings);
    if (cached !== undefined) return patched(request, cached, settings);
    return resolveBeforeDeadline(request, uses, settings, startedAt);
  });
}

function cachedPins(uses: readonly ImageUse[], request: ReviewRequest, settings: ReviewSettings): ImagePin[] | undefined {
  const pins: ImagePin[] = [];
  for (const use of uses) {
    const digest = settings.evaluator.resolveDigestCached?.(use.image, request);
    if (digest === undefined) return undefined;
    pins.push({ use, digest });
  }
  return pins;
}

async function resolveBeforeDeadline(
  request: ReviewRequest,
  uses: readonly ImageUse[],
  settings: ReviewSettings,
  startedAt: number,
): Promise<ReviewOutcome> {
  const images = [...new Set(uses.map((use) => use.image))];
  const work = (signal: AbortSignal) =>
    Promise.allSettled(images.map(async (image) => settings.evaluator.resolveDigest(image, request, signal)));
  const raced = await raceDeadline(work, remainingMs(settings.deadline, startedAt), settings.deadline);
  if (!raced.finished) {
    const reason = `digest ${timeoutReason(settings.deadline)}`;
    return { ...denyAnswer(request.uid, uses.map((use) => `${use.path}: image ${use.image}: ${reason}`)), request };
  }
  const resolved = new Map(images.map((image, index) => [image, raced.value[index]!]));
  const pins: ImagePin[] = [];
  const failures: string[] = [];
  for (const use of uses) {
    const result = resolved.get(use.image)!;
    if (result.status === 'fulfilled') pins.push({ use, digest: result.value });
    else failures.push(`${use.path}: image ${use.image}: cannot resolve its digest: ${describeError(result.reason)}`);
  }
  if (failures.length > 0) return { ...denyAnswer(request.uid, failures), request };
  return patched(request, pins, settings);
}

function patched(request: ReviewRequest, pins: readonly ImagePin[], settings: ReviewSettings): ReviewOutcome {
  return { ...allowAnswer(request.uid, patchFields(pinPatch(pins, settings))), request };
}
