import { describe, expect, it } from '@jest/globals';
import { exemptionFor, parseExemption } from '../../src/policy/exemption.js';
import { PolicyError } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference/index.js';

const CREATED = Date.parse('2026-12-04T10:00:00Z');
const DIGEST = `sha256:${'ab'.repeat(32)}`;

function doc(spec: Record<string, unknown>, created = '2026-12-04T10:00:00Z'): Record<string, unknown> {
  return { apiVersion: 'sigward.dev/v1alpha1', kind: 'ImageExemption', metadata: { name: 'inc-4711', creationTimestamp: created }, spec };
}

const valid = { images: [{ glob: 'registry.example.com/acme/**' }, { digest: DIGEST }], namespaces: ['prod'], reason: 'INC-4711 hotfix', expires: '2026-12-05T10:00:00Z' };

function problems(spec: Record<string, unknown>): readonly string[] {
  try {
    parseExemption(doc(spec));
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected POLICY_INVALID');
}

describe('parseExemption', () => {
  it('reads images by glob and digest, namespaces, the reason and the expiry', () => {
    const exemption = parseExemption(doc(valid));
    expect(exemption).toMatchObject({ name: 'inc-4711', reason: 'INC-4711 hotfix', expires: Date.parse('2026-12-05T10:00:00Z') });
    expect([...exemption.namespaces!]).toEqual(['prod']);
  });

  it('refuses an expiry more than 7 days after creation, and every other problem, with field paths', () => {
    expect(problems({ ...valid, expires: '2026-12-11T10:00:01Z' })).toEqual([
      'spec.expires: is more than 7 days after the exemption was created (2026-12-04T10:00:00.000Z); create a new one when it runs out',
    ]);
    expect(problems({ images: [{ glob: 'a/**', digest: DIGEST }, {}, { digest: 'sha256:nope' }], namespaces: ['Prod'], expires: 'tomorrow' })).toEqual([
      'spec.images[0]: set exactly one of glob and digest, not both',
      'spec.images[1]: set exactly one of glob and digest',
      'spec.images[2].digest: "sha256:nope" must be a sha256:<64 hex> digest',
      'spec.namespaces[0]: must be a namespace name',
      'spec.reason: is required',
      'spec.expires: "tomorrow" must be an RFC 3339 time, such as 2026-12-05T18:00:00Z',
    ]);
  });
});

describe('exemptionFor', () => {
  const exemption = parseExemption(doc(valid));
  const ref = (image: string) => parseReference(image);

  it('matches by glob or by digest, in the namespaces it names, until it expires', () => {
    expect(exemptionFor([exemption], ref('registry.example.com/acme/app:1'), undefined, 'prod', CREATED)?.name).toBe('inc-4711');
    expect(exemptionFor([exemption], ref('other.example/x:1'), DIGEST, 'prod', CREATED)?.name).toBe('inc-4711');
    expect(exemptionFor([exemption], ref(`other.example/x@${DIGEST}`), undefined, 'prod', CREATED)?.name).toBe('inc-4711');
    expect(exemptionFor([exemption], ref('other.example/x:1'), `sha256:${'cd'.repeat(32)}`, 'prod', CREATED)).toBeUndefined();
    expect(exemptionFor([exemption], ref('registry.example.com/acme/app:1'), undefined, 'dev', CREATED)).toBeUndefined();
    expect(exemptionFor([exemption], ref('registry.example.com/acme/app:1'), undefined, 'prod', exemption.expires)).toBeUndefined();
  });
});
