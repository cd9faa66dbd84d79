import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { ImageUse, ReviewRequest } from '../../src/admission/types.js';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { MEDIA_TYPE } from '../../src/constants.js';
import { parseExemption, type CompiledExemption } from '../../src/policy/exemption.js';
import { Evaluator, type DecidedImage } from '../../src/verify/evaluator.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';
import { Verifier } from '../../src/verify/verifier.js';
import { acmePolicies } from './policy-fixtures.js';
import { MemoryRegistry, repository } from './cosign-fixtures.js';

const REPO = repository('registry.example.com/acme/app');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

function setup(exemptions: CompiledExemption[]) {
  const registry = new MemoryRegistry();
  registry.putManifest(REPO, 'v1', new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE.ociManifest, n: randomBytes(4).toString('hex') })));
  const policies = acmePolicies(pem);
  const digests = new TtlCache<string, string>({ max: 100, ttlMs: 60_000 });
  const used: { exemption: string; decided: DecidedImage }[] = [];
  const evaluator = new Evaluator({
    verifier: new Verifier({ registry, digests }),
    policies: { policies: () => policies, ready: () => true },
    noMatch: 'deny',
    digests,
    verdicts: new TtlCache<string, readonly AuthorityVerdict[]>({ max: 100, ttlMs: 60_000 }),
    exemptions: () => exemptions,
    onExempted: (_request, decided, exemption) => { used.push({ exemption: exemption.name, decided }); },
  });
  return { evaluator, used };
}

const request = (namespace: string): ReviewRequest => ({
  uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
  subResource: undefined, namespace, name: 'p', operation: 'CREATE', dryRun: false, object: {},
});
const use: ImageUse = { path: 'spec.containers[0].image', pointer: '/spec/containers/0/image', image: `${REPO.name}:v1`, inPod: true };
const exemption = (expires: number, namespaces?: string[]): CompiledExemption => parseExemption({
  metadata: { name: 'inc-4711', creationTimestamp: new Date(Date.now() - 1000).toISOString() },
  spec: { images: [{ glob: 'registry.example.com/acme/**' }], reason: 'INC-4711', expires: new Date(expires).toISOString(), ...(namespaces === undefined ? {} : { namespaces }) },
});

describe('break-glass exemptions in the evaluator', () => {
  it('admit an image that would be denied, with a warning naming the exemption and what it would have been', async () => {
    const { evaluator, used } = setup([exemption(Date.now() + 60_000)]);
    const [decision] = await evaluator.evaluate([use], request('prod'), new AbortController().signal);
    expect(decision?.action).toBe('warn');
    expect(decision?.policies).toContain('ImageExemption inc-4711');
    expect(decision?.reasons[0]).toMatch(/^admitted by ImageExemption inc-4711 until \S+ \(INC-4711\); without it: .*no signatures found/);
    expect(used.map((u) => u.exemption)).toEqual(['inc-4711']);
    expect(used[0]?.decided.exempted?.withoutIt.join(' ')).toContain('no signatures found');
    // The cached path answers the same, and counts the use again.
    const cached = evaluator.evaluateCached([use], request('prod'));
    expect(cached?.[0]?.action).toBe('warn');
    expect(used).toHaveLength(2);
  });

  it('have no effect once expired, or outside their namespaces', async () => {
    for (const [exemptions, namespace] of [[[exemption(Date.now() - 1)], 'prod'], [[exemption(Date.now() + 60_000, ['prod'])], 'dev']] as const) {
      const { evaluator, used } = setup([...exemptions]);
      const [decision] = await evaluator.evaluate([use], request(namespace), new AbortController().signal);
      expect(decision?.action).toBe('deny');
      expect(used).toEqual([]);
    }
  });
});
