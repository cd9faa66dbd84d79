/**
 * The admission lifecycle (docs/design.md §3 "Lifecycle", "Scope") through a running webhook server:
 * on UPDATE only image fields that differ from `oldObject` are judged or pinned; an object
 * being deleted is admitted; on `pods/ephemeralcontainers` only ephemeral containers count;
 * images no policy covers are neither resolved nor pinned.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DIGEST_B, at, ephemeralReview, mutated, reviewOf, type Doc } from './admission-fixtures.js';
import { scriptedEvaluator, startHarness, type Harness, type ScriptedEvaluator } from './server-support.js';

/** An UPDATE whose old object is the CREATE's object, with `edit` applied to the new one only. */
function updateOf(kind: string, edit: (review: Doc) => Doc = (r) => r): Doc {
  const created = reviewOf(kind);
  const old = structuredClone(at(created, 'request.object'));
  let review = mutated(created, 'request.operation', 'UPDATE');
  review = mutated(review, 'request.oldObject', old);
  return edit(review);
}

function judged(evaluator: ScriptedEvaluator, from: number): string[] {
  return evaluator.evaluated.slice(from).flatMap((call) => call.images.map((use) => use.path));
}

let harness: Harness;
let evaluator: ScriptedEvaluator;
const UNCOVERED = 'registry.example.com/acme/models:v3';

beforeAll(async () => {
  evaluator = scriptedEvaluator({
    resolveDigest: () => Promise.resolve(DIGEST_B),
    covers: (image) => image !== UNCOVERED,
  });
  harness = await startHarness(evaluator, { metricsPort: null });
});

afterAll(async () => {
  await harness.close();
});

describe('an UPDATE', () => {
  it.each(['Pod', 'Deployment', 'CronJob'])('of a %s that changes no image is admitted with nothing judged or pinned', async (kind) => {
    const review = updateOf(kind, (r) => mutated(r, 'request.object.metadata.labels', { app: 'web', release: 'canary' }));
    const before = { evaluated: evaluator.evaluated.length, resolved: evaluator.resolved.length };
    const validated = await harness.post('/validate', review);
    const mutatedAnswer = await harness.post('/mutate', review);
    expect(validated.response.allowed).toBe(true);
    expect(mutatedAnswer.response).toEqual({ uid: expect.any(String), allowed: true });
    expect({ evaluated: evaluator.evaluated.length, resolved: evaluator.resolved.length }).toEqual(before);
  });

  it('judges and pins only the image field that changed', async () => {
    const review = updateOf('Pod', (r) => mutated(r, 'request.object.spec.containers.0.image', 'nginx:1.28'));
    const from = evaluator.evaluated.length;
    await harness.post('/validate', review);
    expect(judged(evaluator, from)).toEqual(['spec.containers[0].image']);
    const answer = await harness.post('/mutate', review);
    expect(JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString())).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: `nginx:1.28@${DIGEST_B}` },
    ]);
  });

  it('judges an image that moved to another field: fields are compared one by one', async () => {
    // The init container now runs what containers[0] ran: same image, new place, new judgement.
    const review = updateOf('Pod', (r) => mutated(r, 'request.object.spec.initContainers.0.image', 'nginx:1.27'));
    const from = evaluator.evaluated.length;
    await harness.post('/validate', review);
    expect(judged(evaluator, from)).toEqual(['spec.initContainers[0].image']);
  });

  it('without an oldObject judges every image', async () => {
    const review = updateOf('Pod', (r) => mutated(r, 'request.oldObject', null));
    const from = evaluator.evaluated.length;
    await harness.post('/validate', review);
    expect(judged(evaluator, from)).toHaveLength(4);
  });
});

describe('an object being deleted', () => {
  it('is admitted when its finalizers are removed, with nothing judged', async () => {
    const review = updateOf('Pod', (r) => {
      const marked = mutated(r, 'request.oldObject.metadata.deletionTimestamp', '2026-12-04T10:00:00Z');
      const old = mutated(marked, 'request.oldObject.metadata.finalizers', ['example.com/keep']);
      // The new object carries the timestamp and no finalizer; its image also changed.
      const removed = mutated(old, 'request.object.metadata.deletionTimestamp', '2026-12-04T10:00:00Z');
      return mutated(removed, 'request.object.spec.containers.0.image', 'nginx:1.28');
    });
    const from = evaluator.evaluated.length;
    expect((await harness.post('/validate', review)).response.allowed).toBe(true);
    expect((await harness.post('/mutate', review)).response.patch).toBeUndefined();
    expect(judged(evaluator, from)).toEqual([]);
  });
});

describe('an UPDATE that claims a deletionTimestamp the stored object does not have', () => {
  it('is judged like any other UPDATE: the new object alone proves nothing', async () => {
    const review = updateOf('Pod', (r) => {
      const claimed = mutated(r, 'request.object.metadata.deletionTimestamp', '2026-12-04T10:00:00Z');
      return mutated(claimed, 'request.object.spec.containers.0.image', 'nginx:1.28');
    });
    const from = evaluator.evaluated.length;
    await harness.post('/validate', review);
    expect(judged(evaluator, from)).toEqual(['spec.containers[0].image']);
    expect((await harness.post('/mutate', review)).response.patch).toBeDefined();
  });
});

describe('the pods/ephemeralcontainers subresource', () => {
  it('judges and pins only the new ephemeral container', async () => {
    const review = ephemeralReview();
    // The pod's own containers changed in the request too; the subresource cannot change them.
    const edited = mutated(review, 'request.object.spec.containers.0.image', 'nginx:1.28');
    const from = evaluator.evaluated.length;
    await harness.post('/validate', edited);
    expect(judged(evaluator, from)).toEqual(['spec.ephemeralContainers[0].image']);
    const answer = await harness.post('/mutate', edited);
    expect(JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString())).toEqual([
      { op: 'replace', path: '/spec/ephemeralContainers/0/image', value: `busybox:1.36@${DIGEST_B}` },
    ]);
  });

  it('judges a debug container that reuses a tag the pod already runs', async () => {
    const review = mutated(ephemeralReview(), 'request.object.spec.ephemeralContainers.0.image', 'nginx:1.27');
    const from = evaluator.evaluated.length;
    await harness.post('/validate', review);
    expect(judged(evaluator, from)).toEqual(['spec.ephemeralContainers[0].image']);
  });
});

describe('/mutate and images no policy covers', () => {
  it('leaves them as written and resolves nothing for them', async () => {
    const review = mutated(reviewOf('Pod'), 'request.object.spec.initContainers.0.image', 'nginx:1.27');
    const from = evaluator.resolved.length;
    const answer = await harness.post('/mutate', review);
    const patch = JSON.parse(Buffer.from(answer.response.patch!, 'base64').toString()) as { path: string }[];
    expect(patch.map((op) => op.path)).toEqual(['/spec/containers/0/image', '/spec/initContainers/0/image']);
    expect(evaluator.resolved.slice(from).map((r) => r.image)).not.toContain(UNCOVERED);
  });
});
