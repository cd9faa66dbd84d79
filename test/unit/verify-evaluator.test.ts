import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ImageUse, ReviewRequest } from '../../src/admission/types.js';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { parsePolicyText, type CompiledPolicy } from '../../src/policy/index.js';
import { Evaluator } from '../../src/verify/evaluator.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';
import { Verifier } from '../../src/verify/verifier.js';
import { MemoryRegistry, repository, signatureManifest } from './cosign-fixtures.js';

const REPO = repository('registry.example.com/acme/app');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PUBLIC_PEM = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Pushes a distinct image under `tag`; signs it with the test key when `signed`. */
function pushImage(registry: MemoryRegistry, tag: string, signed: boolean): string {
  const manifest = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, nonce: randomBytes(8).toString('hex') }));
  const digest = registry.putManifest(REPO, tag, manifest);
  if (signed) {
    const payload = new TextEncoder().encode(JSON.stringify({
      critical: { identity: { 'docker-reference': REPO.name }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
      optional: null,
    }));
    const signature = sign('sha256', payload, keys.privateKey).toString('base64');
    registry.putBlob(payload);
    registry.putManifest(REPO, digest.replace(':', '-') + '.sig', signatureManifest([
      { mediaType: MEDIA_TYPE.simpleSigning, payload, annotations: { [ANNOTATION.signature]: signature } },
    ]));
  }
  return digest;
}

function policies(mode = 'enforce'): CompiledPolicy[] {
  const text = `apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: acme }
spec:
  mode: ${mode}
  images: [ { glob: "registry.example.com/acme/**" } ]
  authorities:
    - name: release
      key:
        data: |
${PUBLIC_PEM.trim().split('\n').map((l) => `          ${l}`).join('\n')}
`;
  const parsed = parsePolicyText(text, 'policy.yaml');
  expect(parsed.problems).toEqual([]);
  return parsed.policies;
}

function setup(options: { mode?: string; noMatch?: 'deny' | 'allow' } = {}) {
  const registry = new MemoryRegistry();
  const digests = new TtlCache<string, string>({ max: 100, ttlMs: 60_000 });
  const verdicts = new TtlCache<string, readonly AuthorityVerdict[]>({ max: 100, ttlMs: 60_000 });
  let current = policies(options.mode);
  const evaluator = new Evaluator({
    verifier: new Verifier({ registry, digests }),
    policies: { policies: () => current, ready: () => true },
    noMatch: options.noMatch ?? 'deny',
    digests,
    verdicts,
  });
  return { registry, evaluator, setPolicies: (p: CompiledPolicy[]) => { current = p; } };
}

const request: ReviewRequest = {
  uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
  subResource: undefined, namespace: 'default', name: 'p', operation: 'CREATE', dryRun: false, object: {},
};
const use = (image: string): ImageUse => ({ path: 'spec.containers[0].image', pointer: '/spec/containers/0/image', image, inPod: true });
const never = new AbortController().signal;

describe('Evaluator', () => {
  describe('when a pod names a signed image by tag', () => {
    it('allows it, with its digest, and answers the next review from cache synchronously', async () => {
      const { registry, evaluator } = setup();
      const digest = pushImage(registry, 'v1', true);
      const [decision] = await evaluator.evaluate([use(`${REPO.name}:v1`)], request, never);
      expect(decision).toMatchObject({ action: 'allow', digest, policies: ['ClusterImagePolicy acme'] });
      const requests = registry.manifestRequests.length;
      expect(evaluator.evaluateCached([use(`${REPO.name}:v1`)], request)?.[0]?.action).toBe('allow');
      expect(registry.manifestRequests.length).toBe(requests);
      expect(evaluator.resolveDigestCached(`${REPO.name}:v1`)).toBe(digest);
    });
  });

  describe('when a pod names an unsigned image', () => {
    it('denies it naming the policy and NO_SIGNATURES', async () => {
      const { registry, evaluator } = setup();
      pushImage(registry, 'v1', false);
      const [decision] = await evaluator.evaluate([use(`${REPO.name}:v1`)], request, never);
      expect(decision?.action).toBe('deny');
      expect(decision?.reasons.join(' ')).toMatch(/ClusterImagePolicy acme.*NO_SIGNATURES/);
    });

    it('admits it in audit mode and records why', async () => {
      const { registry, evaluator } = setup({ mode: 'audit' });
      pushImage(registry, 'v1', false);
      const [decision] = await evaluator.evaluate([use(`${REPO.name}:v1`)], request, never);
      expect(decision?.action).toBe('audit');
      expect(decision?.reasons.length).toBeGreaterThan(0);
    });
  });

  describe('when the tag names a signed image but the digest an unsigned one', () => {
    it('verifies the digest, not the tag, and denies', async () => {
      const { registry, evaluator } = setup();
      pushImage(registry, 'v1', true);
      const unsigned = pushImage(registry, 'v2', false);
      const [decision] = await evaluator.evaluate([use(`${REPO.name}:v1@${unsigned}`)], request, never);
      expect(decision).toMatchObject({ action: 'deny', digest: unsigned });
    });
  });

  describe('when no policy matches the image', () => {
    it('denies by default', async () => {
      const { evaluator } = setup();
      const [decision] = await evaluator.evaluate([use('quay.io/other/app:1')], request, never);
      expect(decision?.action).toBe('deny');
      expect(decision?.reasons[0]).toContain('no policy matches');
    });

    it('allows when --no-match allow', async () => {
      const { evaluator } = setup({ noMatch: 'allow' });
      const [decision] = await evaluator.evaluate([use('quay.io/other/app:1')], request, never);
      expect(decision?.action).toBe('allow');
    });
  });

  describe('when the reference does not parse', () => {
    it('denies with REFERENCE_INVALID', async () => {
      const { evaluator } = setup();
      const [decision] = await evaluator.evaluate([use('UPPER/Case:tag')], request, never);
      expect(decision?.action).toBe('deny');
      expect(decision?.reasons[0]).toMatch(/REFERENCE_INVALID/);
    });
  });

  describe('when the policy is edited after a verdict was cached', () => {
    it('verifies again under the new policy instead of reusing the old verdict', async () => {
      const { registry, evaluator, setPolicies } = setup();
      pushImage(registry, 'v1', true);
      await evaluator.evaluate([use(`${REPO.name}:v1`)], request, never);
      setPolicies(policies('warn'));
      expect(evaluator.evaluateCached([use(`${REPO.name}:v1`)], request)).toBeUndefined();
    });
  });

  describe('when the registry does not know the tag', () => {
    it('denies naming MANIFEST_UNKNOWN', async () => {
      const { evaluator } = setup();
      const [decision] = await evaluator.evaluate([use(`${REPO.name}:missing`)], request, never);
      expect(decision?.action).toBe('deny');
      expect(decision?.reasons.join(' ')).toContain('MANIFEST_UNKNOWN');
    });
  });
});

describe('when two reviews share one verification', () => {
  /** The registry answers tag lookups only once `open` is called, and honours the request's signal. */
  function gated(registry: MemoryRegistry): { open: () => void; waiting: () => number } {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => { open = resolve; });
    let waiting = 0;
    const resolve = registry.resolve.bind(registry);
    registry.resolve = async (repo, reference, options?: { signal?: AbortSignal }) => {
      waiting++;
      await new Promise<void>((done, fail) => {
        void gate.then(done);
        options?.signal?.addEventListener('abort', () => { fail(new Error('request aborted')); }, { once: true });
      });
      return resolve(repo, reference);
    };
    return { open, waiting: () => waiting };
  }

  it("keeps the second review's answer when the first review's deadline passes", async () => {
    const { registry, evaluator } = setup();
    const digest = pushImage(registry, 'v1', true);
    const gate = gated(registry);
    const first = new AbortController();
    const early = evaluator.evaluate([use(`${REPO.name}:v1`)], request, first.signal);
    const late = evaluator.evaluate([use(`${REPO.name}:v1`)], { ...request, uid: 'u2' }, never);
    await new Promise((resolve) => setImmediate(resolve));
    // One registry lookup for both: the second review joined the first one's load.
    expect(gate.waiting()).toBe(1);
    first.abort();
    const [abandoned] = await early;
    expect(abandoned?.action).toBe('deny');
    expect(abandoned?.reasons.join(' ')).toContain('DEADLINE_EXCEEDED');
    gate.open();
    const [answered] = await late;
    expect(answered).toMatchObject({ action: 'allow', digest });
  });
});

describe('decideUnfinished', () => {
  it("uses only a digest this review's credentials resolved", () => {
    const registry = new MemoryRegistry();
    const digests = new TtlCache<string, string>({ max: 100, ttlMs: 60_000 });
    const verdicts = new TtlCache<string, readonly AuthorityVerdict[]>({ max: 100, ttlMs: 60_000 });
    const shared = `sha256:${'1'.repeat(64)}`;
    const own = `sha256:${'2'.repeat(64)}`;
    digests.set(`${REPO.name}:v1`, shared);
    digests.set(`tenant-secrets|${REPO.name}:v1`, own);
    const scoped = (r: ReviewRequest) => ({ provider: undefined, scope: r.uid === 'scoped' ? 'tenant-secrets' : undefined });
    const evaluator = new Evaluator({
      verifier: new Verifier({ registry, digests }),
      policies: { policies: () => policies(), ready: () => true },
      noMatch: 'deny',
      digests,
      verdicts,
      credentials: { forReview: (r) => Promise.resolve(scoped(r)), peek: scoped },
      scopedVerifier: () => new Verifier({ registry }),
    });
    expect(evaluator.decideUnfinished(`${REPO.name}:v1`, { ...request, uid: 'scoped' }, 'timed out').digest).toBe(own);
    expect(evaluator.decideUnfinished(`${REPO.name}:v1`, request, 'timed out').digest).toBe(shared);
  });
});

describe('when no policy covers an image', () => {
  it('answers --no-match without reading the pod\'s credentials or asking any registry', async () => {
    const registry = new MemoryRegistry();
    const digests = new TtlCache<string, string>({ max: 100, ttlMs: 60_000 });
    const verdicts = new TtlCache<string, readonly AuthorityVerdict[]>({ max: 100, ttlMs: 60_000 });
    let credentialReads = 0;
    const credentials = { provider: undefined, scope: 'pod-secrets' };
    const evaluator = new Evaluator({
      verifier: new Verifier({ registry, digests }),
      policies: { policies: () => policies(), ready: () => true },
      noMatch: 'allow',
      digests,
      verdicts,
      credentials: { forReview: () => { credentialReads++; return Promise.resolve(credentials); }, peek: () => credentials },
      scopedVerifier: () => new Verifier({ registry, digests }),
    });
    const uncovered = 'other.example.com/tenant/app:v1';
    expect(evaluator.covers(uncovered, request)).toBe(false);
    const [decision] = await evaluator.evaluate([use(uncovered)], request, never);
    expect(decision?.action).toBe('allow');
    expect({ credentialReads, manifests: registry.manifestRequests.length }).toEqual({ credentialReads: 0, manifests: 0 });
    // The positive control: a covered image reads them and asks the registry.
    pushImage(registry, 'v1', true);
    expect(evaluator.covers(`${REPO.name}:v1`, request)).toBe(true);
    await evaluator.evaluate([use(`${REPO.name}:v1`)], request, never);
    expect(credentialReads).toBe(1);
    expect(registry.manifestRequests.length).toBeGreaterThan(0);
  });
});
