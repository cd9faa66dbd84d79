import { describe, expect, it } from '@jest/globals';
import type { ReviewRequest } from '../../src/admission/types.js';
import { resourceOf } from '../../src/kube/audit.js';
import { REPORT } from '../../src/kube/constants.js';
import { reportObject, resultKey, resultsOf, statusOf, summaryOf, type ImageResult } from '../../src/kube/report-shape.js';
import { ReportResults } from '../../src/kube/report-results.js';
import { formatResults, readResults } from '../../src/kube/report-table.js';
import type { PolicyResult } from '../../src/policy/index.js';

const passed: PolicyResult = {
  policy: 'acme', kind: 'ClusterImagePolicy', namespace: undefined, mode: 'audit', threshold: 1, passed: true,
  verified: ['release'], failed: [], message: 'ClusterImagePolicy acme (audit): 1 of 1 authorities verified, 1 required',
};
const unsigned: PolicyResult = {
  ...passed, passed: false, verified: [],
  failed: [{ authority: 'release', failures: [{ code: 'NO_SIGNATURES', message: 'no signatures found' }] }],
  message: 'ClusterImagePolicy acme (audit): 0 of 1 authorities verified, 1 required; authority release: NO_SIGNATURES no signatures found',
};
const pod = { apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'team-a', uid: 'u-1' };
const DIGEST = `sha256:${'a'.repeat(64)}`;

function result(overrides: Partial<ImageResult>): ImageResult {
  return { resource: pod, image: 'registry.example.com/acme/app:v1', digest: DIGEST, policy: 'ClusterImagePolicy/acme', mode: 'audit', result: 'fail', message: 'm', timestamp: 1_700_000_000_123, ...overrides };
}

describe('statusOf', () => {
  it('is pass for a passing policy', () => {
    expect(statusOf(passed)).toBe('pass');
  });
  it('is fail for an unsigned image under audit or enforce, and warn under warn', () => {
    expect(statusOf(unsigned)).toBe('fail');
    expect(statusOf({ ...unsigned, mode: 'enforce' })).toBe('fail');
    expect(statusOf({ ...unsigned, mode: 'warn' })).toBe('warn');
  });
  describe('when the registry did not answer', () => {
    it('is error, not fail: nothing was learned about the signatures', () => {
      const unreachable: PolicyResult = { ...unsigned, failed: [{ authority: 'release', failures: [{ code: 'REGISTRY_UNREACHABLE', message: 'refused' }] }] };
      expect(statusOf(unreachable)).toBe('error');
      const mixed: PolicyResult = { ...unsigned, failed: [{ authority: 'release', failures: [{ code: 'REGISTRY_UNREACHABLE', message: 'x' }, { code: 'SIGNATURE_INVALID', message: 'y' }] }] };
      expect(statusOf(mixed)).toBe('fail');
    });
  });
});

describe('resultsOf', () => {
  it('gives one result per policy, with the image as written, its digest and the reason', () => {
    const results = resultsOf({ image: 'registry.example.com/acme/app:v1', reference: 'x', digest: DIGEST, results: [passed, { ...unsigned, policy: 'other', kind: 'ImagePolicy' }] }, pod, 5000);
    expect(results).toEqual([
      result({ policy: 'ClusterImagePolicy/acme', result: 'pass', message: 'verified by release', timestamp: 5000 }),
      result({ policy: 'ImagePolicy/other', result: 'fail', message: unsigned.message, timestamp: 5000 }),
    ]);
    expect(resultKey(results[0]!)).toBe('Pod/web-1|registry.example.com/acme/app:v1|ClusterImagePolicy/acme');
  });
});

describe('reportObject', () => {
  describe('for each report API', () => {
    it.each([
      ['openreports', 'openreports.io/v1alpha1', 'Report'],
      ['wgpolicyk8s', 'wgpolicyk8s.io/v1alpha2', 'PolicyReport'],
    ] as const)('%s: names the API and kind, counts results, and puts failures first', (api, apiVersion, kind) => {
      const report = reportObject(api, 'team-a', [result({ result: 'pass', resource: { ...pod, name: 'a' } }), result({ result: 'fail', resource: { ...pod, name: 'z' } })]);
      expect(report).toMatchObject({
        apiVersion, kind,
        metadata: { name: 'sigward', namespace: 'team-a', labels: { 'app.kubernetes.io/managed-by': 'sigward' } },
        summary: { pass: 1, fail: 1, warn: 0, error: 0, skip: 0 },
      });
      const results = report.results as Record<string, unknown>[];
      expect(results.map((r) => r.result)).toEqual(['fail', 'pass']);
      expect(results[0]).toEqual({
        source: 'sigward', policy: 'ClusterImagePolicy/acme', rule: 'signatures', category: 'image-signature', result: 'fail', scored: true,
        message: 'm', timestamp: { seconds: 1_700_000_000, nanos: 0 },
        resources: [{ apiVersion: 'v1', kind: 'Pod', name: 'z', namespace: 'team-a', uid: 'u-1' }],
        properties: { image: 'registry.example.com/acme/app:v1', digest: DIGEST, mode: 'audit' },
      });
    });
  });
  describe('when a namespace has more results than a report holds', () => {
    it('keeps the failures within the limit and counts all of them in the summary', () => {
      const many = Array.from({ length: REPORT.maxResults + 5 }, (_, i) => result({ result: i < 3 ? 'fail' : 'pass', resource: { ...pod, name: `p${i}` } }));
      const report = reportObject('wgpolicyk8s', 'team-a', many);
      const results = report.results as { result: string }[];
      expect(results).toHaveLength(REPORT.maxResults);
      expect(results.slice(0, 3).every((r) => r.result === 'fail')).toBe(true);
      expect(report.summary).toEqual(summaryOf(many));
      expect(summaryOf(many)).toMatchObject({ fail: 3, pass: REPORT.maxResults + 2 });
    });
  });
  describe('when a reason is very long', () => {
    it('bounds the message', () => {
      const report = reportObject('openreports', 'ns', [result({ message: 'x'.repeat(5000) })]);
      expect(((report.results as { message: string }[])[0]!.message).length).toBe(1024);
    });
  });
});

describe('reading reports back (sigward report)', () => {
  const written = [
    reportObject('wgpolicyk8s', 'team-a', [
      result({ result: 'pass', resource: { ...pod, name: 'ok' } }),
      result({ result: 'fail', resource: { ...pod, name: 'bad' }, message: 'NO_SIGNATURES no signatures found' }),
    ]),
    reportObject('wgpolicyk8s', 'team-b', [result({ result: 'warn', policy: 'ImagePolicy/app', digest: undefined, message: 'w' })]),
  ];

  it('reads the results of the reports sigward writes', () => {
    const results = readResults(written);
    expect(results).toHaveLength(3);
    expect(results[0]).toEqual({
      namespace: 'team-a', policy: 'ClusterImagePolicy/acme', result: 'fail', resource: 'Pod/bad',
      image: 'registry.example.com/acme/app:v1', digest: DIGEST, message: 'NO_SIGNATURES no signatures found',
    });
  });

  it('prints counts per namespace and policy, then each failing pod and image with its reason', () => {
    const text = formatResults(readResults(written));
    expect(text.split('\n')).toEqual([
      'NAMESPACE  POLICY                   PASS  FAIL  WARN  ERROR',
      'team-a     ClusterImagePolicy/acme  1     1     0     0',
      'team-b     ImagePolicy/app          0     0     1     0',
      '',
      'failing (2):',
      `team-a Pod/bad registry.example.com/acme/app:v1@${DIGEST} ClusterImagePolicy/acme fail: NO_SIGNATURES no signatures found`,
      'team-b Pod/web-1 registry.example.com/acme/app:v1 ImagePolicy/app warn: w',
    ]);
  });

  it('names a pinned image with its digest once', () => {
    const pinned = reportObject('openreports', 'ns', [result({ image: `registry.example.com/acme/app:v1@${DIGEST}` })]);
    expect(formatResults(readResults([pinned]))).toContain(`ns Pod/web-1 registry.example.com/acme/app:v1@${DIGEST} ClusterImagePolicy/acme fail: m`);
  });

  describe('when a report was edited into something else', () => {
    it('skips what is malformed and strips control characters', () => {
      const edited = structuredClone(written[0]) as { results: Record<string, unknown>[]; metadata: Record<string, unknown> };
      edited.results[0]!.result = 'maybe';
      edited.results[1]!.message = 'line\u001b[31mred\nnext';
      const results = readResults([edited, { metadata: {} }, 'junk', null]);
      expect(results).toHaveLength(1);
      expect(results[0]!.message).toBe('line [31mred next');
    });
    it('says so when there is nothing', () => {
      expect(formatResults([])).toBe('no policy results reported yet');
    });
  });
});

describe('resourceOf', () => {
  const base: ReviewRequest = {
    uid: 'u', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: undefined, namespace: 'team-a', name: 'web-1', operation: 'CREATE', dryRun: false, object: { metadata: { uid: 'pod-uid' } },
  };
  it('points at the admitted object when it has a name', () => {
    expect(resourceOf(base)).toEqual({ apiVersion: 'v1', kind: 'Pod', name: 'web-1', namespace: 'team-a', uid: 'pod-uid' });
    expect(resourceOf({ ...base, kind: { group: 'apps', version: 'v1', kind: 'Deployment' }, name: 'web' })).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment' });
  });
  describe('when the pod has no name yet (generateName)', () => {
    it('points at its controller', () => {
      const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9', uid: 'rs-uid', controller: true };
      const request = { ...base, name: undefined, object: { metadata: { ownerReferences: [{ ...owner, controller: false, name: 'x' }, owner] } } };
      expect(resourceOf(request)).toEqual({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-7d9', namespace: 'team-a', uid: 'rs-uid' });
      expect(resourceOf({ ...base, name: undefined, object: {} })).toBeUndefined();
    });
  });
});

describe('ReportResults', () => {
  const at = (name: string, timestamp: number, status: ImageResult['result'] = 'fail') => result({ resource: { ...pod, name }, timestamp, result: status });

  describe('when admission records a failure for a pod twice', () => {
    it('keeps the latest result only', () => {
      const results = new ReportResults();
      results.record('team-a', [at('web', 1, 'fail')]);
      results.record('team-a', [at('web', 2, 'warn')]);
      expect(results.take('team-a')).toEqual([at('web', 2, 'warn')]);
    });
  });
  describe('when a scan replaces a namespace\'s results', () => {
    it('drops pods it did not find, keeps admission results newer than its start, and adds its own', () => {
      const results = new ReportResults();
      results.record('team-a', [at('gone', 100), at('fresh', 600)]);
      results.replace('team-a', [at('running', 550, 'pass')], 500);
      expect(results.take('team-a').map((r) => r.resource.name).sort()).toEqual(['fresh', 'running']);
    });
  });
  describe('when a scan finds no pod left in a namespace', () => {
    it('empties it, and forgets it once taken, so its report is deleted once', () => {
      const results = new ReportResults();
      results.record('team-a', [at('web', 100)]);
      results.replace('team-a', [], 500);
      expect(results.namespaces()).toEqual(['team-a']);
      expect(results.take('team-a')).toEqual([]);
      expect(results.namespaces()).toEqual([]);
    });
  });
});
