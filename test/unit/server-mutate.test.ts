import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SigwardError } from '../../src/errors.js';
import { DIGEST_A, DIGEST_B, deleteReview, mutated, reviewOf } from './admission-fixtures.js';
import { scriptedEvaluator, startHarness, type Harness, type ScriptedEvaluator } from './server-support.js';

/** Digests a registry would return, by tag; `migrate:2.1` does not exist. */
const TAGS = new Map([
  ['nginx:1.27', DIGEST_B],
  ['registry.example.com/acme/models:v3', DIGEST_A],
]);

function resolver() {
  return scriptedEvaluator({
    resolveDigest: (image) => {
      const digest = TAGS.get(image);
      return digest !== undefined ? Promise.resolve(digest) : Promise.reject(new SigwardError('MANIFEST_UNKNOWN', `${image}: manifest unknown`));
    },
  });
}

function decodedPatch(patch: string | undefined): unknown {
  return JSON.parse(Buffer.from(patch!, 'base64').toString('utf8'));
}

/** A Pod whose tags all resolve (the init container's tag is replaced by one that exists). */
function resolvablePod(kind = 'Pod') {
  const prefix = kind === 'Pod' ? 'request.object.spec' : 'request.object.spec.template.spec';
  return mutated(reviewOf(kind), `${prefix}.initContainers.0.image`, 'nginx:1.27');
}

describe('POST /mutate', () => {
  let harness: Harness;
  let evaluator: ScriptedEvaluator;

  beforeAll(async () => {
    evaluator = resolver();
    harness = await startHarness(evaluator);
  });

  afterAll(async () => {
    await harness.close();
  });

  describe('when a Pod names tags that resolve', () => {
    it('admits with a base64 JSONPatch pinning each tag, resolving each distinct image once', async () => {
      const before = evaluator.resolved.length;
      const res = await harness.post('/mutate', resolvablePod());
      expect(res.response.allowed).toBe(true);
      expect(res.response.patchType).toBe('JSONPatch');
      expect(decodedPatch(res.response.patch)).toEqual([
        { op: 'replace', path: '/spec/containers/0/image', value: `nginx:1.27@${DIGEST_B}` },
        { op: 'replace', path: '/spec/initContainers/0/image', value: `nginx:1.27@${DIGEST_B}` },
        { op: 'replace', path: '/spec/volumes/1/image/reference', value: `registry.example.com/acme/models:v3@${DIGEST_A}` },
      ]);
      expect(evaluator.resolved.slice(before).map((r) => r.image).sort()).toEqual(['nginx:1.27', 'registry.example.com/acme/models:v3']);
    });
  });

  describe('when a tag cannot be resolved', () => {
    it('denies naming the image and the reason', async () => {
      const res = await harness.post('/mutate', reviewOf('Pod'));
      expect(res.response.allowed).toBe(false);
      expect(res.response.patch).toBeUndefined();
      expect(res.response.status!.message).toBe(
        'spec.initContainers[0].image: image registry.example.com/acme/migrate:2.1: cannot resolve its digest: registry.example.com/acme/migrate:2.1: manifest unknown',
      );
    });
  });

  describe('when the object is a Deployment', () => {
    it('admits without a patch and without lookups', async () => {
      const before = evaluator.resolved.length;
      const res = await harness.post('/mutate', reviewOf('Deployment'));
      expect(res.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
      expect(evaluator.resolved.length).toBe(before);
    });
  });

  describe('when every image already has a digest', () => {
    it('admits with no patch field', async () => {
      const review = mutated(reviewOf('Pod'), 'request.object.spec', {
        containers: [{ name: 'web', image: `nginx:1.27@${DIGEST_B}` }],
      });
      const res = await harness.post('/mutate', review);
      expect(res.response).toEqual({ uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true });
    });
  });

  describe('when the operation is DELETE', () => {
    it('admits without lookups', async () => {
      const before = evaluator.resolved.length;
      expect((await harness.post('/mutate', deleteReview())).response.allowed).toBe(true);
      expect(evaluator.resolved.length).toBe(before);
    });
  });
});

describe('POST /mutate with mutateWorkloads', () => {
  it('pins the Deployment template', async () => {
    const harness = await startHarness(resolver(), { mutateWorkloads: true, metricsPort: null });
    try {
      const res = await harness.post('/mutate', resolvablePod('Deployment'));
      expect(res.response.allowed).toBe(true);
      expect(decodedPatch(res.response.patch)).toContainEqual({
        op: 'replace',
        path: '/spec/template/spec/containers/0/image',
        value: `nginx:1.27@${DIGEST_B}`,
      });
    } finally {
      await harness.close();
    }
  });
});

describe('POST /mutate with digests in the evaluator cache', () => {
  it('answers from resolveDigestCached without calling resolveDigest', async () => {
    const evaluator = scriptedEvaluator({ resolveDigestCached: (image) => TAGS.get(image) ?? DIGEST_A });
    const harness = await startHarness(evaluator, { metricsPort: null });
    try {
      const res = await harness.post('/mutate', reviewOf('Pod'));
      expect(res.response.allowed).toBe(true);
      expect(decodedPatch(res.response.patch)).toContainEqual({
        op: 'replace',
        path: '/spec/initContainers/0/image',
        value: `registry.example.com/acme/migrate:2.1@${DIGEST_A}`,
      });
      expect(evaluator.resolved).toHaveLength(0);
    } finally {
      await harness.close();
    }
  });

  it('refuses a malformed cached digest with a denial, not a patch', async () => {
    const evaluator = scriptedEvaluator({ resolveDigestCached: () => 'sha256:not-a-digest' });
    const harness = await startHarness(evaluator, { metricsPort: null });
    try {
      const res = await harness.post('/mutate', reviewOf('Pod'));
      expect(res.response.allowed).toBe(false);
      expect(res.response.status!.message).toContain('DIGEST_INVALID');
    } finally {
      await harness.close();
    }
  });
});

describe('POST /validate with decisions in the evaluator cache', () => {
  it('answers from evaluateCached without calling evaluate', async () => {
    const evaluator = scriptedEvaluator({
      evaluateCached: (images) => images.map((use) => ({ use, action: 'warn' as const, policies: ['ImagePolicy/team-a/dev'], reasons: ['unsigned'] })),
    });
    const harness = await startHarness(evaluator, { metricsPort: null });
    try {
      const res = await harness.post('/validate', reviewOf('Pod'));
      expect(res.response.allowed).toBe(true);
      expect(res.response.warnings).toHaveLength(4);
      expect(evaluator.evaluated).toHaveLength(0);
    } finally {
      await harness.close();
    }
  });
});
