import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ImageDecision } from '../../src/admission/types.js';
import { SigwardError } from '../../src/errors.js';
import { DIGEST_A, deleteReview, mutated, reviewOf } from './admission-fixtures.js';
import { allowAll, scriptedEvaluator, startHarness, type Harness, type ScriptedEvaluator } from './server-support.js';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

/** Denies the nginx container, allows the rest: the verdict a policy engine would give. */
function denyNginx(images: readonly { image: string; path: string }[]): Promise<ImageDecision[]> {
  return Promise.resolve(
    images.map((use) =>
      use.image === 'nginx:1.27'
        ? {
            use: { ...use, pointer: '', inPod: true },
            action: 'deny' as const,
            reference: 'docker.io/library/nginx:1.27',
            digest: DIGEST_A,
            policies: ['ClusterImagePolicy/acme-release'],
            reasons: ['no signatures found (NO_SIGNATURES)'],
          }
        : { use: { ...use, pointer: '', inPod: true }, action: 'allow' as const, policies: [], reasons: [] },
    ),
  );
}

describe('webhook server over HTTPS', () => {
  let harness: Harness;
  let evaluator: ScriptedEvaluator;
  let behaviour: 'allow' | 'deny-nginx' | 'throw' | 'reject' = 'allow';

  beforeAll(async () => {
    evaluator = scriptedEvaluator({
      evaluate: async (images) => {
        if (behaviour === 'throw') throw new TypeError("Cannot read properties of undefined (reading 'digest')");
        if (behaviour === 'reject') return Promise.reject(new SigwardError('REGISTRY_UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:5000'));
        if (behaviour === 'deny-nginx') return denyNginx(images);
        return allowAll(images);
      },
    });
    harness = await startHarness(evaluator);
  });

  afterAll(async () => {
    await harness.close();
  });

  describe('when the body is not JSON', () => {
    it('answers 400 with a JSON error', async () => {
      const res = await harness.post('/validate', '{"apiVersion": "admission.k8s.io/v1", ');
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: 'REVIEW_INVALID', message: 'the body is not JSON' });
    });
  });

  describe('when the review has no request.uid', () => {
    it('answers 400 naming the field', async () => {
      const res = await harness.post('/validate', mutated(reviewOf('Pod'), 'request.uid', undefined));
      expect(res.status).toBe(400);
      expect(res.json.error).toBe('REVIEW_INVALID');
      expect(res.json.message).toContain('request.uid');
    });
  });

  describe('when the body is larger than 3 MiB', () => {
    it('answers 413', async () => {
      const review = mutated(reviewOf('Pod'), 'request.object.metadata.annotations', { big: 'x'.repeat(3 * 1024 * 1024) });
      const res = await harness.post('/validate', review);
      expect(res.status).toBe(413);
      expect(res.json.error).toBe('REVIEW_TOO_LARGE');
    });

    it('still serves the next request', async () => {
      expect((await harness.get('/healthz')).status).toBe(200);
    });
  });

  describe('when the probes are called', () => {
    it('answers /healthz, and /readyz only once the evaluator is ready', async () => {
      expect(await harness.get('/healthz')).toEqual({ status: 200, text: '{"status":"ok"}' });
      evaluator.readyNow = false;
      expect((await harness.get('/readyz')).status).toBe(503);
      evaluator.readyNow = true;
      expect((await harness.get('/readyz')).status).toBe(200);
    });
  });

  describe('when every image is allowed', () => {
    it('admits, copying the uid, and hands the evaluator the pod images', async () => {
      behaviour = 'allow';
      const before = evaluator.evaluated.length;
      const res = await harness.post('/validate', reviewOf('Pod'));
      expect(res.status).toBe(200);
      expect(res.json).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: UID, allowed: true } });
      const call = evaluator.evaluated[before]!;
      expect(call.images.map((u) => u.path)).toContain('spec.volumes[1].image.reference');
      expect(call.request.namespace).toBe('team-a');
    });
  });

  describe('when an image is denied', () => {
    it('denies with 403 naming path, reference, digest, policy and reason, and logs one line', async () => {
      behaviour = 'deny-nginx';
      const res = await harness.post('/validate', reviewOf('Deployment', 'uid-deny-1'));
      expect(res.status).toBe(200);
      expect(res.response.allowed).toBe(false);
      expect(res.response.status).toEqual({
        code: 403,
        reason: 'Forbidden',
        message: `spec.template.spec.containers[0].image (container web): image docker.io/library/nginx:1.27, digest ${DIGEST_A}, policy ClusterImagePolicy/acme-release: no signatures found (NO_SIGNATURES)`,
      });
      const line = harness.logs.find((l) => l.uid === 'uid-deny-1' && l.msg === 'admission decision');
      expect(line).toMatchObject({ kind: 'Deployment', namespace: 'team-a', name: 'web', operation: 'CREATE', decision: 'deny' });
      expect(line!.denied).toEqual([expect.stringContaining('NO_SIGNATURES')]);
      expect(typeof line!.durationMs).toBe('number');
    });
  });

  describe('when the evaluator throws', () => {
    it('denies naming the error instead of answering 500', async () => {
      behaviour = 'throw';
      const res = await harness.post('/validate', reviewOf('Pod'));
      expect(res.status).toBe(200);
      expect(res.response.allowed).toBe(false);
      expect(res.response.status!.message).toContain("could not be checked: Cannot read properties of undefined (reading 'digest') (INTERNAL)");
      expect(res.response.status!.message).toContain('spec.containers[0].image');
    });

    it('denies naming the code when it rejects', async () => {
      behaviour = 'reject';
      const res = await harness.post('/validate', reviewOf('Pod'));
      expect(res.response.allowed).toBe(false);
      expect(res.response.status!.message).toContain('ECONNREFUSED 127.0.0.1:5000 (REGISTRY_UNREACHABLE)');
    });
  });

  describe('when the request can be addressed but a field is malformed', () => {
    it('denies naming the field', async () => {
      const res = await harness.post('/validate', mutated(reviewOf('Pod'), 'request.object.spec.containers.0.image', 42));
      expect(res.status).toBe(200);
      expect(res.response.uid).toBe(UID);
      expect(res.response.allowed).toBe(false);
      expect(res.response.status!.message).toContain('spec.containers[0].image: missing or not a non-empty string');
    });
  });

  describe('when the operation is DELETE', () => {
    it('admits without calling the evaluator', async () => {
      behaviour = 'throw';
      const before = evaluator.evaluated.length;
      const res = await harness.post('/validate', deleteReview('Pod'));
      expect(res.response).toEqual({ uid: UID, allowed: true });
      expect(evaluator.evaluated.length).toBe(before);
    });
  });

  describe('when the review is a dry run', () => {
    it('passes dryRun to the evaluator', async () => {
      behaviour = 'allow';
      const res = await harness.post('/validate', mutated(reviewOf('Pod'), 'request.dryRun', true));
      expect(res.response.allowed).toBe(true);
      expect(evaluator.evaluated.at(-1)!.request.dryRun).toBe(true);
    });
  });

  describe('when a route does not exist', () => {
    it('answers 404', async () => {
      expect((await harness.get('/validate')).status).toBe(404);
    });
  });

  describe('when Prometheus scrapes the metrics port', () => {
    it('exposes every metric of the contract, with the decisions counted', async () => {
      const text = await harness.metricsText();
      for (const name of [
        'sigward_admission_requests_total',
        'sigward_admission_duration_seconds',
        'sigward_registry_requests_total',
        'sigward_cache_requests_total',
        'sigward_verifications_total',
      ]) {
        expect(text).toContain(`# TYPE ${name}`);
      }
      expect(text).toMatch(/sigward_admission_requests_total\{operation="CREATE",decision="deny"\} [1-9]/);
      expect(text).toMatch(/sigward_admission_requests_total\{operation="DELETE",decision="allow"\} 1/);
      expect(text).toMatch(/sigward_admission_requests_total\{operation="UNKNOWN",decision="too_large"\} 1/);
      expect(text).toMatch(/sigward_admission_duration_seconds_count [1-9]/);
    });

    it('counts what other modules record', async () => {
      harness.server.metrics.recordRegistry({ registry: 'localhost:5000', operation: 'blob', status: '200', seconds: 0.03 });
      harness.server.metrics.recordCache('digest', 'coalesced');
      harness.server.metrics.recordVerification('verified');
      harness.server.metrics.recordExemption('inc-4711');
      const text = await harness.metricsText();
      expect(text).toContain('sigward_registry_requests_total{registry="localhost:5000",status="200"} 1');
      expect(text).toContain('sigward_registry_request_duration_seconds_bucket{le="0.05",registry="localhost:5000",operation="blob"} 1');
      expect(text).toContain('sigward_registry_request_duration_seconds_bucket{le="0.025",registry="localhost:5000",operation="blob"} 0');
      expect(text).toContain('sigward_cache_requests_total{cache="digest",result="coalesced"} 1');
      expect(text).toContain('sigward_verifications_total{result="verified"} 1');
      expect(text).toContain('sigward_exemptions_used_total{exemption="inc-4711"} 1');
    });
  });
});
