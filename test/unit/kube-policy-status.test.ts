import { describe, expect, it } from '@jest/globals';
import { policyWhere, withSecretNamespaces } from '../../src/kube/policy-doc.js';
import { readyCondition, statusSays } from '../../src/kube/policy-status.js';

const NOW = new Date('2026-03-01T12:00:00.456Z');

describe('readyCondition', () => {
  describe('when the policy compiled', () => {
    it('is Ready=True, reason Compiled, at the generation compiled', () => {
      expect(readyCondition({ ok: true, authorities: 2 }, 3, undefined, NOW)).toEqual({
        type: 'Ready', status: 'True', reason: 'Compiled', message: 'compiled: 2 authorities', observedGeneration: 3,
        lastTransitionTime: '2026-03-01T12:00:00Z',
      });
    });
  });
  describe('when an edit is invalid and an earlier version compiled', () => {
    it('is Ready=False, reason InvalidPolicy, listing every problem and saying which version stays in force', () => {
      const condition = readyCondition({ ok: false, problems: ['spec.mode: must be enforce, warn, audit, not "block"', 'spec.images: is required'], lastGoodGeneration: 4 }, 5, undefined, NOW);
      expect(condition).toMatchObject({ status: 'False', reason: 'InvalidPolicy', observedGeneration: 5 });
      expect(condition.message).toBe('spec.mode: must be enforce, warn, audit, not "block"; spec.images: is required; generation 4, the last valid one, stays in force');
    });
  });
  describe('when a new policy is invalid', () => {
    it('says that it is not enforced', () => {
      expect(readyCondition({ ok: false, problems: ['p'], lastGoodGeneration: undefined }, 1, undefined, NOW).message).toBe('p; the policy is not enforced');
    });
  });
  describe('when the status does not change', () => {
    it('keeps the earlier transition time, and takes a new one when it does change', () => {
      const before = { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
      expect(readyCondition({ ok: true, authorities: 1 }, 2, before, NOW).lastTransitionTime).toBe('2026-01-01T00:00:00Z');
      expect(readyCondition({ ok: false, problems: ['p'], lastGoodGeneration: 1 }, 2, before, NOW).lastTransitionTime).toBe('2026-03-01T12:00:00Z');
    });
  });
  describe('when the problems are very long', () => {
    it('bounds the message', () => {
      const message = readyCondition({ ok: false, problems: ['x'.repeat(20_000)], lastGoodGeneration: undefined }, 1, undefined, NOW).message;
      expect(message.length).toBe(8192);
    });
  });
});

describe('statusSays', () => {
  const condition = readyCondition({ ok: true, authorities: 1 }, 2, undefined, NOW);
  it('is true when the object already carries the condition, so no write follows a write', () => {
    expect(statusSays({ observedGeneration: 2, conditions: [{ ...condition, lastTransitionTime: 'earlier' }] }, condition)).toBe(true);
  });
  it('is false for another generation, message or no status at all', () => {
    expect(statusSays({ conditions: [{ ...condition, observedGeneration: 1 }] }, condition)).toBe(false);
    expect(statusSays({ conditions: [{ ...condition, message: 'compiled: 2 authorities' }] }, condition)).toBe(false);
    expect(statusSays(undefined, condition)).toBe(false);
    expect(statusSays({ conditions: 'x' }, condition)).toBe(false);
  });
});

describe('withSecretNamespaces', () => {
  const policy = (kind: string, secretRef: Record<string, string>) => ({
    apiVersion: 'sigward.dev/v1alpha1', kind, metadata: { name: 'p', namespace: kind === 'ImagePolicy' ? 'team-a' : undefined },
    spec: { images: [{ glob: '**' }], authorities: [{ name: 'a', key: { secretRef } }] },
  });
  describe('when a secretRef names no namespace', () => {
    it('fills in the ImagePolicy\'s own namespace', () => {
      const out = withSecretNamespaces(policy('ImagePolicy', { name: 'keys', key: 'cosign.pub' }), { kind: 'ImagePolicy', name: 'p', namespace: 'team-a' }, 'sigward-system');
      expect(out).toMatchObject({ spec: { authorities: [{ key: { secretRef: { name: 'keys', key: 'cosign.pub', namespace: 'team-a' } } }] } });
    });
    it('fills in sigward\'s own namespace for a ClusterImagePolicy, leaving the input as it was', () => {
      const input = policy('ClusterImagePolicy', { name: 'keys', key: 'cosign.pub' });
      const out = withSecretNamespaces(input, { kind: 'ClusterImagePolicy', name: 'p', namespace: undefined }, 'sigward-system');
      expect(out).toMatchObject({ spec: { authorities: [{ key: { secretRef: { namespace: 'sigward-system' } } }] } });
      expect(input.spec.authorities[0]!.key.secretRef).toEqual({ name: 'keys', key: 'cosign.pub' });
    });
  });
  describe('when a secretRef names a namespace', () => {
    it('keeps it, so the compiler can refuse one that is not allowed', () => {
      const out = withSecretNamespaces(policy('ImagePolicy', { name: 'k', key: 'k', namespace: 'team-b' }), { kind: 'ImagePolicy', name: 'p', namespace: 'team-a' }, 'sigward-system');
      expect(out).toMatchObject({ spec: { authorities: [{ key: { secretRef: { namespace: 'team-b' } } }] } });
    });
  });
  describe('when the document is not shaped like a policy', () => {
    it('returns it unchanged for the compiler to report', () => {
      expect(withSecretNamespaces('text', { kind: 'ImagePolicy', name: 'p', namespace: 'a' }, 's')).toBe('text');
      const odd = { spec: { authorities: 'x' } };
      expect(withSecretNamespaces(odd, { kind: 'ImagePolicy', name: 'p', namespace: 'a' }, 's')).toBe(odd);
    });
  });
  it('names policies for messages', () => {
    expect(policyWhere({ kind: 'ImagePolicy', name: 'p', namespace: 'team-a' })).toBe('ImagePolicy team-a/p');
    expect(policyWhere({ kind: 'ClusterImagePolicy', name: 'acme', namespace: undefined })).toBe('ClusterImagePolicy acme');
  });
});
