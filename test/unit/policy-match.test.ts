import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { compileSelector, matchPolicies, namedRegistries, parsePolicy, type CompiledPolicy, type LabelSelector } from '../../src/policy/index.js';
import { parseReference } from '../../src/reference/index.js';

const COSIGN_PUB = readFileSync(new URL('../fixtures/legacy/containers-image/cosign.pub', import.meta.url), 'utf8');

function compiled(kind: 'ClusterImagePolicy' | 'ImagePolicy', name: string, globs: string[], extra: { namespace?: string; selector?: unknown } = {}): CompiledPolicy {
  return parsePolicy(
    {
      apiVersion: 'sigward.dev/v1alpha1',
      kind,
      metadata: { name, ...(extra.namespace === undefined ? {} : { namespace: extra.namespace }) },
      spec: {
        images: globs.map((glob) => ({ glob })),
        ...(extra.selector === undefined ? {} : { namespaceSelector: extra.selector }),
        authorities: [{ name: 'release', key: { data: COSIGN_PUB } }],
      },
    },
    `test.yaml (${kind} ${name})`,
  );
}

const image = (ref: string) => parseReference(ref);
const names = (policies: readonly CompiledPolicy[]) => policies.map((p) => p.name);

describe('compileSelector', () => {
  const selector = (s: Partial<LabelSelector>) => compileSelector({ matchLabels: {}, matchExpressions: [], ...s });

  it('selects every namespace when absent or empty', () => {
    expect(compileSelector(undefined)).toMatchObject({ empty: true });
    expect(compileSelector(undefined).matches({})).toBe(true);
    expect(selector({}).empty).toBe(true);
  });

  it.each<[string, Partial<LabelSelector>, Record<string, string>, boolean]>([
    ['matchLabels equal', { matchLabels: { env: 'prod' } }, { env: 'prod', team: 'a' }, true],
    ['matchLabels different', { matchLabels: { env: 'prod' } }, { env: 'dev' }, false],
    ['matchLabels missing', { matchLabels: { env: 'prod' } }, {}, false],
    ['In with the value', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, { team: 'b' }, true],
    ['In without the label', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] }, {}, false],
    ['NotIn with another value', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, { team: 'c' }, true],
    ['NotIn without the label', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, {}, true],
    ['NotIn with the value', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, { team: 'a' }, false],
    ['Exists', { matchExpressions: [{ key: 'team', operator: 'Exists', values: [] }] }, { team: '' }, true],
    ['Exists without the label', { matchExpressions: [{ key: 'team', operator: 'Exists', values: [] }] }, {}, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist', values: [] }] }, { env: 'x' }, true],
    ['DoesNotExist with the label', { matchExpressions: [{ key: 'team', operator: 'DoesNotExist', values: [] }] }, { team: 'a' }, false],
    [
      'labels and expressions together (AND), one failing',
      { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['a'] }] },
      { env: 'prod', team: 'b' },
      false,
    ],
    ['a label named like an Object.prototype member', { matchExpressions: [{ key: 'constructor', operator: 'Exists', values: [] }] }, {}, false],
  ])('%s', (_what, s, labels, expected) => {
    expect(selector(s).matches(labels)).toBe(expected);
  });
});

describe('matchPolicies', () => {
  const acme = compiled('ClusterImagePolicy', 'acme', ['registry.example.com/acme/**']);
  const prodOnly = compiled('ClusterImagePolicy', 'prod-only', ['**'], { selector: { matchLabels: { env: 'prod' } } });
  const everywhere = compiled('ClusterImagePolicy', 'everywhere', ['**'], { selector: {} });
  const teamA = compiled('ImagePolicy', 'team-a', ['registry.example.com/**'], { namespace: 'team-a' });
  const hub = compiled('ClusterImagePolicy', 'hub', ['index.docker.io/*', 'index.docker.io/*/*']);
  const all = [acme, prodOnly, everywhere, teamA, hub];

  it('returns every policy whose globs match and whose scope covers the namespace', () => {
    expect(names(matchPolicies(all, image('registry.example.com/acme/app:v1'), 'team-a', { env: 'prod' }))).toEqual([
      'acme', 'prod-only', 'everywhere', 'team-a',
    ]);
    expect(names(matchPolicies(all, image('registry.example.com/acme/app:v1'), 'team-b', { env: 'dev' }))).toEqual(['acme', 'everywhere']);
    expect(names(matchPolicies(all, image('nginx'), 'team-b', {}))).toEqual(['everywhere', 'hub']);
    expect(names(matchPolicies([acme, teamA, hub], image('quay.io/other/app'), 'team-a', {}))).toEqual([]);
  });

  describe('when the namespace labels are unknown', () => {
    it('applies a ClusterImagePolicy with a selector, so it is enforced rather than skipped', () => {
      expect(names(matchPolicies([prodOnly], image('quay.io/x/y'), 'team-b'))).toEqual(['prod-only']);
    });
  });

  describe('when the namespace is unknown', () => {
    it('applies an ImagePolicy, so it is enforced rather than skipped', () => {
      expect(names(matchPolicies([teamA], image('registry.example.com/x'), undefined))).toEqual(['team-a']);
    });
  });

  it('applies an ImagePolicy only in its own namespace', () => {
    expect(names(matchPolicies([teamA], image('registry.example.com/x'), 'team-a', {}))).toEqual(['team-a']);
    expect(names(matchPolicies([teamA], image('registry.example.com/x'), 'team-ab', {}))).toEqual([]);
    expect(names(matchPolicies([teamA], image('registry.example.com/x'), 'kube-system', {}))).toEqual([]);
  });

  it('matches a Docker Hub image however the pod spells it', () => {
    for (const ref of ['nginx', 'docker.io/library/nginx:1', 'index.docker.io/nginx', 'registry-1.docker.io/library/nginx@sha256:' + 'a'.repeat(64)]) {
      expect(names(matchPolicies([hub], image(ref), 'default', {}))).toEqual(['hub']);
    }
  });
});

describe('namedRegistries', () => {
  it('lists the registries globs name literally, normalized, and none for wildcards', () => {
    const policies = [
      compiled('ClusterImagePolicy', 'a', ['quay.io/acme/**', 'Docker.io/library/nginx']),
      compiled('ClusterImagePolicy', 'b', ['**', '*.example.com/app', 'registry.example.com:5000/x/*']),
    ];
    expect([...namedRegistries(policies)].sort()).toEqual(['docker.io', 'quay.io', 'registry.example.com:5000']);
  });
});
