/**
 * The HTTP contract of a running `sigward serve` (docs/design.md §3), over HTTPS with a certificate the
 * client trusts through its CA only: bodies that are not reviews (400, JSON), oversize bodies
 * (413), reviews that can be addressed but not read (a deny, never a 500), /mutate pinning tags
 * to the digests of images pushed to the real distribution registry, /healthz and /readyz, and
 * the Prometheus metrics with counts that move.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { metricFamilies, sampleSum } from '../support/metrics.js';
import { makeTempDir } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview, imagePointer, review, workload } from '../support/review.js';
import { decodePatch, startServe, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const AUTH = { username: 'sigward-endpoints', password: 'serve-endpoints-3b8f' };
const scratch = makeTempDir('serve-endpoints');
let registry: TestRegistry;
let signer: CosignKeyPair;
/** Pods pinned, workload templates left alone (the default). */
let main: ServeProcess;
/** --mutate-workloads. */
let workloads: ServeProcess;
const images: Record<'signed' | 'unsigned', TestImage | undefined> = { signed: undefined, unsigned: undefined };

function image(name: 'signed' | 'unsigned'): TestImage {
  const found = images[name];
  if (found === undefined) throw new Error(`no test image ${name}`);
  return found;
}

beforeAll(async () => {
  registry = await startDistributionRegistry({ auth: AUTH, tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  [images.signed, images.unsigned] = await Promise.all([
    pushImage(registry, 'enforce/app', 'signed', [signer]),
    pushImage(registry, 'enforce/app', 'unsigned'),
  ]);
  const policies = [{ name: 'enforce-app', images: [`${registry.host}/enforce/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] }];
  [main, workloads] = await Promise.all([
    startServe({ policies, registries: [registry] }),
    startServe({ policies, registries: [registry], mutateWorkloads: true }),
  ]);
}, 180_000);

afterAll(async () => {
  await Promise.all([main?.stop(), workloads?.stop()]);
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

describe('when the body is not an AdmissionReview', () => {
  it.each([
    ['not JSON', '{"apiVersion": "admission.k8s.io/v1", '],
    ['a review without request.uid', { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { operation: 'CREATE' } }],
    ['a review of another apiVersion', { ...review({ kind: 'Pod', object: workload('Pod', 'x') }), apiVersion: 'admission.k8s.io/v1beta1' }],
  ])('answers 400 with a JSON error for %s', async (_what, body) => {
    const answer = await main.post('/validate', body);
    expect({ status: answer.status, type: answer.contentType, error: (answer.json as { error?: unknown } | undefined)?.error }).toEqual({
      status: 400, type: 'application/json', error: 'REVIEW_INVALID',
    });
  });
});

describe('when a review has a uid but a request that cannot be read', () => {
  it('answers 200 with a deny naming the field, not a 400 or a 500', async () => {
    const request = review({ kind: 'Pod', object: workload('Pod', image('signed').reference) });
    const broken = { ...request, request: { ...request.request, object: 'not an object' } };
    const answer = await main.post('/validate', broken);
    const response = (answer.json as { response?: { uid?: string; allowed?: boolean; status?: { code?: number; message?: string } } }).response;
    expect({ status: answer.status, uid: response?.uid, allowed: response?.allowed, code: response?.status?.code }).toEqual({
      status: 200, uid: request.request.uid, allowed: false, code: 403,
    });
    expect(response?.status?.message).toContain('request.object: not an object');
  });
});

describe('when the body is larger than 3 MiB', () => {
  const padded = (bytes: number) => {
    const request = createReview('Pod', image('signed').reference);
    const object = request.request.object as { metadata: Record<string, unknown> };
    object.metadata.annotations = { padding: 'x'.repeat(bytes - JSON.stringify(request).length - 20) };
    return JSON.stringify(request);
  };

  it('answers 413 with a JSON error', async () => {
    const answer = await main.post('/validate', padded(3 * 1024 * 1024 + 1024));
    expect({ status: answer.status, error: (answer.json as { error?: unknown } | undefined)?.error }).toEqual({ status: 413, error: 'REVIEW_TOO_LARGE' });
  });

  it('still answers a review just under 3 MiB', async () => {
    const answer = await main.post('/validate', padded(3 * 1024 * 1024 - 1024));
    expect({ status: answer.status, allowed: (answer.json as { response?: { allowed?: unknown } }).response?.allowed }).toEqual({ status: 200, allowed: true });
  });
});

describe('POST /mutate', () => {
  it('pins each tag of a Pod to the digest of the pushed image', async () => {
    const request = createReview('Pod', { containers: [image('signed').reference], initContainers: [image('unsigned').reference] });
    const response = await main.admit('/mutate', request);
    expect({ uid: response.uid, allowed: response.allowed, patchType: response.patchType }).toEqual({ uid: request.request.uid, allowed: true, patchType: 'JSONPatch' });
    expect(decodePatch(response)).toEqual([
      { op: 'replace', path: imagePointer('Pod'), value: `${image('signed').reference}@${image('signed').digest}` },
      { op: 'replace', path: imagePointer('Pod', 'initContainers'), value: `${image('unsigned').reference}@${image('unsigned').digest}` },
    ]);
  });

  it('leaves a reference that already has a digest alone', async () => {
    const response = await main.admit('/mutate', createReview('Pod', image('signed').byDigest));
    expect({ allowed: response.allowed, patch: response.patch }).toEqual({ allowed: true, patch: undefined });
  });

  it('does not rewrite a Deployment template without --mutate-workloads', async () => {
    const response = await main.admit('/mutate', createReview('Deployment', image('signed').reference));
    expect({ allowed: response.allowed, patch: response.patch }).toEqual({ allowed: true, patch: undefined });
  });

  it('pins a Deployment template with --mutate-workloads', async () => {
    const response = await workloads.admit('/mutate', createReview('Deployment', image('signed').reference));
    expect(decodePatch(response)).toEqual([
      { op: 'replace', path: imagePointer('Deployment'), value: `${image('signed').reference}@${image('signed').digest}` },
    ]);
  });
});

describe('health and metrics', () => {
  it('answers /healthz and /readyz with 200', async () => {
    const [health, ready] = await Promise.all([main.get('/healthz'), main.get('/readyz')]);
    expect([health.status, ready.status, health.json, ready.json]).toEqual([200, 200, { status: 'ok' }, { status: 'ready' }]);
  });

  it('exposes the docs/design.md §3 metrics, and their counts move with each review', async () => {
    const before = await main.metrics();
    const fresh = await pushImage(registry, 'enforce/metrics', 'v1');
    await main.admit('/validate', createReview('Pod', fresh.reference));
    await main.admit('/validate', createReview('Pod', image('signed').byDigest));
    await main.post('/validate', 'garbage');
    const after = await main.metrics();
    const families = metricFamilies(after);
    for (const name of ['sigward_admission_requests_total', 'sigward_admission_duration_seconds', 'sigward_registry_requests_total', 'sigward_cache_requests_total', 'sigward_verifications_total', 'sigward_verification_phase_seconds']) {
      expect(families).toContain(name);
    }
    const moved = (name: string, labels: Record<string, string> = {}) => sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect({
      denied: moved('sigward_admission_requests_total', { operation: 'CREATE', decision: 'deny' }),
      allowed: moved('sigward_admission_requests_total', { operation: 'CREATE', decision: 'allow' }),
      invalid: moved('sigward_admission_requests_total', { decision: 'invalid' }),
      timed: moved('sigward_admission_duration_seconds_count'),
      failedVerifications: moved('sigward_verifications_total', { result: 'failed' }),
      cacheMisses: moved('sigward_cache_requests_total', { result: 'miss' }) > 0,
      registryRequests: moved('sigward_registry_requests_total', { registry: registry.host }) > 0,
    }).toEqual({ denied: 1, allowed: 1, invalid: 1, timed: 3, failedVerifications: 1, cacheMisses: true, registryRequests: true });
  });
});

describe('latency by phase', () => {
  it('times each phase of a cold review, and a cached review as its own phase', async () => {
    const fresh = await pushImage(registry, 'enforce/phases', 'v1');
    const count = (text: string, phase: string) => sampleSum(text, 'sigward_verification_phase_seconds_count', { phase });
    const before = await main.metrics();
    await main.admit('/validate', createReview('Pod', fresh.reference));
    const cold = await main.metrics();
    await main.admit('/validate', createReview('Pod', fresh.reference));
    const cached = await main.metrics();
    const phases = ['resolve', 'discover', 'decide', 'cached'];
    expect(Object.fromEntries(phases.map((p) => [p, count(cold, p) - count(before, p)]))).toEqual({ resolve: 1, discover: 1, decide: 1, cached: 0 });
    expect(Object.fromEntries(phases.map((p) => [p, count(cached, p) - count(cold, p)]))).toEqual({ resolve: 0, discover: 0, decide: 0, cached: 1 });
  });
});
