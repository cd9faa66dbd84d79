import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import type { ErrorCode } from '../../src/errors.js';
import { decide, parsePolicy, type CompiledPolicy, type ImageAction, type PolicyMode } from '../../src/policy/index.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const KEYS = {
  release: readFileSync(`${FIXTURES}/legacy/containers-image/cosign.pub`, 'utf8'),
  qa: readFileSync(`${FIXTURES}/legacy/sigstore-rs/rsa-2048.pub`, 'utf8'),
  security: readFileSync(`${FIXTURES}/legacy/containers-image/cosign2.pub`, 'utf8'),
};

function policy(name: string, mode: PolicyMode, threshold: number, authorities: (keyof typeof KEYS)[] = ['release']): CompiledPolicy {
  return parsePolicy(
    {
      apiVersion: 'sigward.dev/v1alpha1',
      kind: 'ClusterImagePolicy',
      metadata: { name },
      spec: {
        images: [{ glob: 'registry.example.com/acme/**' }],
        mode,
        threshold,
        authorities: authorities.map((a) => ({ name: a, key: { data: KEYS[a] } })),
      },
    },
    `policies.yaml (ClusterImagePolicy ${name})`,
  );
}

function ok(authority: string): AuthorityVerdict {
  const signature = { location: 'registry.example.com/acme/app:sha256-6c.sig layer 0', format: 'legacy' as const, payload: new Uint8Array([123, 125]), keyId: 'k' };
  return { authority, verified: true, signatures: [signature], failures: [] };
}

function fail(authority: string, code: ErrorCode = 'NO_SIGNATURES', message = 'no signatures found'): AuthorityVerdict {
  return { authority, verified: false, signatures: [], failures: [{ code, message }] };
}

describe('decide', () => {
  describe('when one policy matches', () => {
    // [mode, threshold, authorities, verdicts, action, passed]
    it.each<[PolicyMode, number, (keyof typeof KEYS)[], AuthorityVerdict[], ImageAction, boolean]>([
      ['enforce', 1, ['release'], [ok('release')], 'allow', true],
      ['enforce', 1, ['release'], [fail('release')], 'deny', false],
      ['warn', 1, ['release'], [fail('release')], 'warn', false],
      ['audit', 1, ['release'], [fail('release')], 'audit', false],
      ['warn', 1, ['release'], [ok('release')], 'allow', true],
      ['audit', 1, ['release'], [ok('release')], 'allow', true],
      ['enforce', 1, ['release', 'qa'], [fail('release'), ok('qa')], 'allow', true],
      ['enforce', 2, ['release', 'qa'], [fail('release'), ok('qa')], 'deny', false],
      ['enforce', 2, ['release', 'qa'], [ok('release'), ok('qa')], 'allow', true],
      ['enforce', 2, ['release', 'qa', 'security'], [ok('release'), fail('qa'), ok('security')], 'allow', true],
      ['enforce', 3, ['release', 'qa', 'security'], [ok('release'), fail('qa'), ok('security')], 'deny', false],
      ['warn', 2, ['release', 'qa'], [ok('release'), fail('qa')], 'warn', false],
    ])('mode %s, threshold %i, authorities %j: %j gives %s', (mode, threshold, authorities, verdicts, action, passed) => {
      const decision = decide([{ policy: policy('p', mode, threshold, authorities), verdicts }]);
      expect(decision).toMatchObject({ action, passed, matched: true });
      expect(decision.reasons).toHaveLength(passed ? 0 : 1);
    });
  });

  describe('when the verdicts are incomplete or inconsistent', () => {
    it('counts an authority without a verdict as not verified', () => {
      const decision = decide([{ policy: policy('p', 'enforce', 1), verdicts: [] }]);
      expect(decision.action).toBe('deny');
      expect(decision.results[0]!.failed).toEqual([{ authority: 'release', failures: [{ code: 'INTERNAL', message: 'was not evaluated' }] }]);
    });

    it('ignores verdicts for authorities the policy does not name', () => {
      expect(decide([{ policy: policy('p', 'enforce', 1), verdicts: [ok('intruder')] }]).action).toBe('deny');
    });

    it('does not count a verdict that claims verification without a signature', () => {
      const hollow: AuthorityVerdict = { authority: 'release', verified: true, signatures: [], failures: [] };
      const decision = decide([{ policy: policy('p', 'enforce', 1), verdicts: [hollow] }]);
      expect(decision.action).toBe('deny');
      expect(decision.results[0]!.failed[0]!.failures[0]!.code).toBe('INTERNAL');
    });

    it('does not count an authority when one of its verdicts failed', () => {
      expect(decide([{ policy: policy('p', 'enforce', 1), verdicts: [ok('release'), fail('release')] }]).action).toBe('deny');
    });

    it('does not count one authority twice toward the threshold', () => {
      expect(decide([{ policy: policy('p', 'enforce', 2, ['release', 'qa']), verdicts: [ok('release'), ok('release')] }]).action).toBe('deny');
    });
  });

  describe('when several policies match (AND)', () => {
    it.each<[PolicyMode[], boolean[], ImageAction]>([
      [['enforce', 'enforce'], [true, true], 'allow'],
      [['enforce', 'enforce'], [true, false], 'deny'],
      [['enforce', 'warn'], [true, false], 'warn'],
      [['enforce', 'warn'], [false, false], 'deny'],
      [['warn', 'audit'], [false, false], 'warn'],
      [['audit', 'audit'], [false, true], 'audit'],
      [['audit', 'enforce', 'warn'], [false, false, false], 'deny'],
      [['audit', 'enforce', 'warn'], [false, true, false], 'warn'],
    ])('modes %j with outcomes %j give %s', (modes, outcomes, action) => {
      const evaluations = modes.map((mode, i) => ({
        policy: policy(`p${i}`, mode, 1),
        verdicts: [outcomes[i] ? ok('release') : fail('release')],
      }));
      const decision = decide(evaluations);
      expect(decision.action).toBe(action);
      expect(decision.passed).toBe(outcomes.every(Boolean));
      expect(decision.results.map((r) => r.passed)).toEqual(outcomes);
      expect(decision.reasons).toHaveLength(outcomes.filter((o) => !o).length);
    });

    it('lists the most severe failing policy first, with its failing authorities and their failures', () => {
      const decision = decide([
        { policy: policy('audited', 'audit', 1), verdicts: [fail('release')] },
        { policy: policy('enforced', 'enforce', 2, ['release', 'qa']), verdicts: [ok('release'), fail('qa', 'SIGNATURE_INVALID', 'signature does not verify with the key')] },
      ]);
      expect(decision.reasons).toEqual([
        'ClusterImagePolicy enforced (enforce): 1 of 2 authorities verified, 2 required; authority qa: SIGNATURE_INVALID signature does not verify with the key',
        'ClusterImagePolicy audited (audit): 0 of 1 authorities verified, 1 required; authority release: NO_SIGNATURES no signatures found',
      ]);
      expect(decision.results[1]).toMatchObject({ policy: 'enforced', passed: false, verified: ['release'], failed: [{ authority: 'qa' }] });
    });
  });

  describe('when no policy matches', () => {
    it.each<[('deny' | 'warn' | 'allow') | undefined, ImageAction]>([
      [undefined, 'deny'],
      ['deny', 'deny'],
      ['warn', 'warn'],
      ['allow', 'allow'],
    ])('answers --no-match %s with %s', (noMatch, action) => {
      const decision = decide([], noMatch === undefined ? {} : { noMatch });
      expect(decision).toMatchObject({ action, matched: false, passed: false, results: [] });
      expect(decision.reasons).toEqual([`no policy matches the image (--no-match ${noMatch ?? 'deny'})`]);
    });

    it('denies for a --no-match value that is none of the three', () => {
      expect(decide([], { noMatch: 'yes' as never }).action).toBe('deny');
    });
  });

  it('denies for a policy mode that is none of the three', () => {
    const odd = { ...policy('p', 'enforce', 1), mode: 'lenient' as never };
    expect(decide([{ policy: odd, verdicts: [fail('release')] }]).action).toBe('deny');
  });
});

describe('the reason for a failing authority', () => {
  const failures = (count: number): AuthorityVerdict => ({
    authority: 'release',
    verified: false,
    signatures: [],
    failures: [
      ...Array.from({ length: Math.min(count, 10) }, (_, i) => ({ code: 'SIGNATURE_INVALID' as const, message: `layer ${i}: ${'x'.repeat(1000)}` })),
      ...(count > 10 ? [{ code: 'SIGNATURE_INVALID' as const, message: `and ${count - 10} more signatures that did not verify`, more: count - 10 }] : []),
    ],
  });

  it('shows the first three failures, each cut short, and counts every other one', () => {
    const [reason] = decide([{ policy: policy('acme', 'enforce', 1), verdicts: [failures(64)] }], { noMatch: 'deny' }).reasons;
    expect(reason).toContain('authority release: SIGNATURE_INVALID layer 0: ');
    expect(reason).toContain('SIGNATURE_INVALID layer 2: ');
    expect(reason).not.toContain('layer 3:');
    expect(reason).toMatch(/; and 61 more$/);
    expect(reason!.length).toBeLessThan(1000);
  });

  it('lists two failures whole with nothing counted', () => {
    const two: AuthorityVerdict = { ...fail('release'), failures: [{ code: 'NO_SIGNATURES', message: 'none' }, { code: 'REGISTRY_DENIED', message: 'no' }] };
    const [reason] = decide([{ policy: policy('acme', 'enforce', 1), verdicts: [two] }], { noMatch: 'deny' }).reasons;
    expect(reason).toMatch(/authority release: NO_SIGNATURES none; REGISTRY_DENIED no$/);
  });
});

describe('when only a namespaced ImagePolicy matches', () => {
  function imagePolicy(mode: PolicyMode): CompiledPolicy {
    return parsePolicy(
      {
        apiVersion: 'sigward.dev/v1alpha1',
        kind: 'ImagePolicy',
        metadata: { name: 'tenant', namespace: 'team-a' },
        spec: { images: [{ glob: '**' }], mode, authorities: [{ name: 'release', key: { data: KEYS.release } }] },
      },
      'policies.yaml (ImagePolicy team-a/tenant)',
    );
  }

  // [--no-match, tenant's verdict, action]: the tenant's own key never turns the no-match answer into an allow.
  it.each<['deny' | 'warn' | 'allow', 'ok' | 'fail', ImageAction]>([
    ['deny', 'ok', 'deny'],
    ['deny', 'fail', 'deny'],
    ['warn', 'ok', 'warn'],
    ['warn', 'fail', 'deny'],
    ['allow', 'ok', 'allow'],
    ['allow', 'fail', 'deny'],
  ])('under --no-match %s with a verdict %s it decides %s', (noMatch, verdict, action) => {
    const decision = decide([{ policy: imagePolicy('enforce'), verdicts: [verdict === 'ok' ? ok('release') : fail('release')] }], { noMatch });
    expect(decision.action).toBe(action);
    if (noMatch !== 'allow') expect(decision.reasons.join(' ')).toContain(`no ClusterImagePolicy matches the image (--no-match ${noMatch})`);
  });

  it('adds its requirements to a ClusterImagePolicy that matches too', () => {
    const decision = decide([{ policy: policy('acme', 'enforce', 1), verdicts: [ok('release')] }, { policy: imagePolicy('enforce'), verdicts: [fail('release')] }]);
    expect(decision.action).toBe('deny');
    expect(decision.reasons).toHaveLength(1);
  });
});

describe('a policy with a revoked authority', () => {
  /** `qa` read its key from a Secret that is gone: compiled without it, revoked. */
  const withRevoked = (threshold: number): CompiledPolicy => {
    const both = policy('acme', 'enforce', threshold, ['release', 'qa']);
    return {
      ...both,
      authorities: both.authorities.filter((a) => a.name === 'release'),
      revoked: [{ authority: 'qa', reason: 'spec.authorities[1].key.secretRef: Secret sigward-system/k has no key cosign.pub (or does not exist)' }],
    };
  };

  it('passes on its other authorities when the threshold allows', () => {
    expect(decide([{ policy: withRevoked(1), verdicts: [ok('release')] }]).action).toBe('allow');
  });

  it('fails when the revoked one was needed, counting it and saying why', () => {
    const decision = decide([{ policy: withRevoked(2), verdicts: [ok('release')] }]);
    expect(decision.action).toBe('deny');
    expect(decision.reasons[0]).toContain('1 of 2 authorities verified, 2 required');
    expect(decision.reasons[0]).toContain('authority qa: KEY_INVALID revoked: spec.authorities[1].key.secretRef');
  });
});
