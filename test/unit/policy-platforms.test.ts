/* eslint-disable @typescript-eslint/no-explicit-any -- the tests mutate untyped documents, as a user's YAML is untyped */
import { describe, expect, it } from '@jest/globals';
import { parsePolicy, validatePolicy } from '../../src/policy/index.js';
import { WHERE, clusterDoc, problemsOf } from './policy-fixtures.js';

function withPlatforms(platforms: unknown): Record<string, any> {
  const doc = clusterDoc();
  doc.spec.platforms = platforms;
  return doc;
}

describe('spec.platforms', () => {
  it('defaults to the index digest', () => {
    expect(parsePolicy(clusterDoc(), WHERE).platforms).toEqual({ mode: 'index', acceptChildOfSignedIndex: false });
  });

  it('reads every, listed with variants, and acceptChildOfSignedIndex', () => {
    expect(parsePolicy(withPlatforms({ mode: 'every' }), WHERE).platforms).toEqual({ mode: 'every' });
    expect(parsePolicy(withPlatforms({ mode: 'listed', list: ['linux/amd64', 'linux/arm64/v8'] }), WHERE).platforms).toEqual({
      mode: 'listed', list: [{ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }],
    });
    expect(parsePolicy(withPlatforms({ acceptChildOfSignedIndex: true }), WHERE).platforms).toEqual({ mode: 'index', acceptChildOfSignedIndex: true });
  });

  it('changes the policy identity, so verdicts under another rule are not reused', () => {
    expect(parsePolicy(withPlatforms({ mode: 'every' }), WHERE).identity).not.toBe(parsePolicy(clusterDoc(), WHERE).identity);
  });

  it('reports every problem with its field path', () => {
    expect(problemsOf(() => validatePolicy(withPlatforms({ mode: 'some', list: ['linux'], acceptChildOfSignedIndex: 'yes' }), WHERE))).toEqual([
      'spec.platforms.mode: must be index, every, listed, not "some"',
      'spec.platforms.acceptChildOfSignedIndex: must be true or false',
      'spec.platforms.list: applies to mode listed only',
      'spec.platforms.list[0]: "linux" must be os/architecture or os/architecture/variant, such as linux/arm64/v8',
    ]);
    expect(problemsOf(() => validatePolicy(withPlatforms({ mode: 'listed' }), WHERE))).toEqual([
      'spec.platforms.list: is required with mode listed and must name at least one os/architecture',
    ]);
    expect(problemsOf(() => validatePolicy(withPlatforms({ mode: 'every', acceptChildOfSignedIndex: true }), WHERE))).toEqual([
      'spec.platforms.acceptChildOfSignedIndex: applies to mode index only',
    ]);
    expect(problemsOf(() => validatePolicy(withPlatforms({ mode: 'listed', list: ['linux/amd64', 'linux/amd64'] }), WHERE))).toEqual([
      'spec.platforms.list[1]: "linux/amd64" is listed twice',
    ]);
  });
});
