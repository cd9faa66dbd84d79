import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ImageUse, ReviewRequest } from '../../src/admission/types.js';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { SigwardError, isSigwardError } from '../../src/errors.js';
import { parsePolicyText } from '../../src/policy/index.js';
import type { Repository } from '../../src/reference/types.js';
import type { Descriptor, RequestOptions } from '../../src/registry/types.js';
import { Evaluator, scopedKey, type DecidedImage, type ReviewCredentials } from '../../src/verify/evaluator.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';
import { Verifier, type Memo } from '../../src/verify/verifier.js';
import { MemoryRegistry, pushSignedImage, repository } from './cosign-fixtures.js';

const REPO = repository('registry.example.com/acme/app');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const PEM = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A registry that answers only pulls with the robot's credential, as a private registry does. */
class PrivateRegistry extends MemoryRegistry {
  override async resolve(repo: Repository, reference: string, options: RequestOptions = {}): Promise<Descriptor> {
    const [provider] = [options.credentials ?? []].flat();
    if ((await provider?.(repo.registry))?.kind !== 'basic') {
      throw new SigwardError('REGISTRY_DENIED', `${repo.name}: denied`);
    }
    return super.resolve(repo, reference);
  }
}

function pushSigned(registry: MemoryRegistry): void {
  pushSignedImage(registry, REPO, 'v1', keys.privateKey);
}

const ROBOT: ReviewCredentials = {
  provider: (host) => (host === 'registry.example.com' ? { kind: 'basic', username: 'robot', password: 'pw', source: 'Secret team-a/regcred' } : undefined),
  scope: 'creds:0123456789abcdef',
};
const NONE: ReviewCredentials = { provider: undefined, scope: undefined };

function setup() {
  const registry = new PrivateRegistry();
  pushSigned(registry);
  // Denials are remembered, as `serve` remembers them: the case where sharing would go wrong.
  const cache = <V extends object | string>() => new TtlCache<string, V>({ max: 100, ttlMs: 60_000, failureTtlMs: 60_000, isCacheableFailure: (e) => isSigwardError(e, 'REGISTRY_DENIED') });
  const digests = cache<string>();
  const verdicts = cache<readonly AuthorityVerdict[]>();
  const scoped = <V>(memo: Memo<V>, scope: string): Memo<V> => ({ getOrLoad: (key, load) => memo.getOrLoad(scopedKey(scope, key), load) });
  const byNamespace = new Map<string, ReviewCredentials>([['team-a', ROBOT], ['team-b', NONE]]);
  const looked: string[] = [];
  const decided: DecidedImage[] = [];
  const text = `apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: acme }
spec:
  images: [ { glob: "registry.example.com/acme/**" } ]
  authorities: [ { name: release, key: { data: ${JSON.stringify(PEM)} } } ]
`;
  const policies = parsePolicyText(text, 'p.yaml').policies;
  const evaluator = new Evaluator({
    verifier: new Verifier({ registry, digests }),
    scopedVerifier: (scope) => new Verifier({ registry, digests: scoped(digests, scope) }),
    credentials: {
      forReview: (request) => {
        looked.push(request.namespace ?? '');
        return Promise.resolve(byNamespace.get(request.namespace ?? '') ?? NONE);
      },
      peek: (request) => (looked.includes(request.namespace ?? '') ? byNamespace.get(request.namespace ?? '') : undefined),
    },
    onDecided: (_request, image) => { decided.push(image); },
    policies: { policies: () => policies, ready: () => true },
    noMatch: 'deny',
    digests,
    verdicts,
  });
  return { evaluator, digests, decided };
}

const request = (namespace: string): ReviewRequest => ({
  uid: `u-${namespace}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
  subResource: undefined, namespace, name: 'p', operation: 'CREATE', dryRun: false, object: {},
});
const use: ImageUse = { path: 'spec.containers[0].image', pointer: '/spec/containers/0/image', image: `${REPO.name}:v1`, inPod: true };
const signal = new AbortController().signal;

describe('Evaluator with per-review credentials', () => {
  describe('when a pod without pull secrets is denied by a private registry first', () => {
    it('still admits a pod whose own pull secret opens it: the remembered denial is not shared', async () => {
      const { evaluator } = setup();
      const [denied] = await evaluator.evaluate([use], request('team-b'), signal);
      expect(denied?.action).toBe('deny');
      expect(denied?.reasons.join()).toContain('REGISTRY_DENIED');
      const [allowed] = await evaluator.evaluate([use], request('team-a'), signal);
      expect(allowed?.action).toBe('allow');
    });
  });
  describe('when a pod with a pull secret was admitted first', () => {
    it('does not hand its digest or verdict to a pod without credentials', async () => {
      const { evaluator, digests } = setup();
      const [allowed] = await evaluator.evaluate([use], request('team-a'), signal);
      expect(allowed?.action).toBe('allow');
      expect(digests.peek(`${REPO.name}:v1`)).toBeUndefined();
      expect(digests.peek(scopedKey(ROBOT.scope, `${REPO.name}:v1`))).toBe(allowed?.digest);
      expect(evaluator.evaluateCached([use], request('team-b'))).toBeUndefined();
      const [denied] = await evaluator.evaluate([use], request('team-b'), signal);
      expect(denied?.action).toBe('deny');
    });
  });
  describe('when the same pod is reviewed again', () => {
    it('answers from the scoped cache synchronously, for /validate and /mutate alike', async () => {
      const { evaluator } = setup();
      expect(evaluator.evaluateCached([use], request('team-a'))).toBeUndefined();
      const [first] = await evaluator.evaluate([use], request('team-a'), signal);
      const cached = evaluator.evaluateCached([use], request('team-a'));
      expect(cached?.[0]).toMatchObject({ action: 'allow', digest: first?.digest });
      expect(evaluator.resolveDigestCached(use.image, request('team-a'))).toBe(first?.digest);
      expect(evaluator.resolveDigestCached(use.image, request('team-b'))).toBeUndefined();
      await expect(evaluator.resolveDigest(use.image, request('team-a'), signal)).resolves.toBe(first?.digest);
    });
  });
  describe('when images are decided', () => {
    it('tells onDecided of each, with every matching policy\'s result', async () => {
      const { evaluator, decided } = setup();
      await evaluator.evaluate([use], request('team-a'), signal);
      evaluator.evaluateCached([use], request('team-a'));
      expect(decided).toHaveLength(2);
      expect(decided[0]).toMatchObject({ image: use.image, results: [{ policy: 'acme', passed: true, verified: ['release'] }] });
    });
  });
  describe('when credentials are given without a scoped verifier', () => {
    it('refuses to build the evaluator, since scoped answers would land in the shared caches', () => {
      const digests = new TtlCache<string, string>({ max: 1, ttlMs: 1000 });
      const verdicts = new TtlCache<string, readonly AuthorityVerdict[]>({ max: 1, ttlMs: 1000 });
      expect(() => new Evaluator({
        verifier: new Verifier({ registry: new MemoryRegistry() }),
        credentials: { forReview: () => Promise.resolve(NONE), peek: () => NONE },
        policies: { policies: () => [], ready: () => true }, noMatch: 'deny', digests, verdicts,
      })).toThrow(/scopedVerifier/);
    });
  });
});
