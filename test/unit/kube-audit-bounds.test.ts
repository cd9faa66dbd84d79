/**
 * The audit side is bounded whatever the cluster or a flood of reviews holds (issue: bounded
 * audit): results kept per namespace and namespaces remembered are capped, a pass never evicts a
 * failure; Events are sent a few at a time, at a steady rate, from a bounded backlog; the scan
 * leaves alone what the webhook excludes.
 */
import { describe, expect, it } from '@jest/globals';
import type { ImageEvaluator, ImageUse, ReviewRequest } from '../../src/admission/types.js';
import { createLogger } from '../../src/log.js';
import { Auditor } from '../../src/kube/audit.js';
import type { KubeClients } from '../../src/kube/client.js';
import { EventRecorder, type FailureEvent } from '../../src/kube/events.js';
import { ReportResults } from '../../src/kube/report-results.js';
import type { ImageResult } from '../../src/kube/report-shape.js';
import type { ReportWriter } from '../../src/kube/reports.js';
import { PodScanner } from '../../src/kube/scan.js';

const logger = createLogger({ level: 'error', write: () => undefined });

function result(name: string, status: ImageResult['result'], timestamp = 1): ImageResult {
  return {
    resource: { apiVersion: 'v1', kind: 'Pod', name, namespace: 'team-a' },
    image: 'registry.example.com/acme/app:v1', digest: undefined, policy: 'ClusterImagePolicy/acme', mode: 'audit',
    result: status, message: 'm', timestamp,
  };
}

describe('ReportResults bounds', () => {
  it('keeps at most the cap of failing results per namespace, the oldest recorded evicted first', () => {
    const results = new ReportResults(3, 100);
    for (let i = 0; i < 5; i++) results.record('team-a', [result(`p${i}`, 'fail')]);
    expect(results.take('team-a').map((r) => r.resource.name)).toEqual(['p2', 'p3', 'p4']);
  });

  it('never evicts a failure to make room for passes', () => {
    const results = new ReportResults(2, 100);
    results.record('team-a', [result('bad', 'fail')]);
    results.replace('team-a', Array.from({ length: 50 }, (_, i) => result(`ok${i}`, 'pass', 10)), 0);
    const kept = results.take('team-a');
    expect(kept.map((r) => r.resource.name)).toEqual(['bad', 'ok48', 'ok49']);
  });

  it('moves a result between failing and passing when the same pod is decided again', () => {
    const results = new ReportResults(5, 100);
    results.record('team-a', [result('web', 'fail')]);
    results.record('team-a', [result('web', 'pass')]);
    expect(results.take('team-a').map((r) => r.result)).toEqual(['pass']);
  });

  it('remembers at most the cap of namespaces, forgetting the least recently recorded', () => {
    const results = new ReportResults(5, 3);
    for (const namespace of ['a', 'b', 'c', 'a', 'd']) results.record(namespace, [result('web', 'fail')]);
    expect(results.namespaces()).toEqual(['c', 'a', 'd']);
  });
});

describe('EventRecorder bounds', () => {
  /** A fake events API that holds each create until released, counting how many are open at once. */
  function fakeEvents(): { clients: KubeClients; open: () => number; maxOpen: () => number; created: () => number; release: () => void } {
    let open = 0;
    let maxOpen = 0;
    let created = 0;
    const waiting: (() => void)[] = [];
    const events = {
      createNamespacedEvent: async (): Promise<void> => {
        open++;
        maxOpen = Math.max(maxOpen, open);
        await new Promise<void>((resolve) => waiting.push(resolve));
        open--;
        created++;
      },
    };
    return {
      clients: { events } as unknown as KubeClients,
      open: () => open,
      maxOpen: () => maxOpen,
      created: () => created,
      release: () => { for (const resolve of waiting.splice(0)) resolve(); },
    };
  }
  const event = (i: number): FailureEvent => ({
    regarding: { apiVersion: 'v1', kind: 'Pod', name: `p${i}`, namespace: 'team-a' }, reason: 'ImageVerificationFailed', note: 'n', key: `k${i}`,
  });

  it('sends at most inFlight at once and drops what passes the backlog', async () => {
    const fake = fakeEvents();
    const recorder = new EventRecorder(fake.clients, 'test', logger, { inFlight: 2, perSecond: 1000, backlog: 5 });
    const sent = Array.from({ length: 20 }, (_, i) => recorder.record(event(i)));
    for (let i = 0; i < 50 && fake.created() < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      fake.release();
    }
    for (let i = 0; i < 50 && fake.open() > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      fake.release();
    }
    await Promise.all(sent);
    expect(fake.maxOpen()).toBe(2);
    // Those started at once plus the backlog of 5 were sent; the other 13 or more were dropped.
    expect(fake.created()).toBeGreaterThanOrEqual(5);
    expect(fake.created()).toBeLessThanOrEqual(2 + 5);
  });

  it('keeps to the rate: ten events at 20/s take about half a second', async () => {
    const events = { createNamespacedEvent: (): Promise<void> => Promise.resolve() };
    const recorder = new EventRecorder({ events } as unknown as KubeClients, 'test', logger, { inFlight: 4, perSecond: 20, backlog: 100 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 10 }, (_, i) => recorder.record(event(i))));
    // Nine gaps of 50 ms: a recorder without the rate would send all ten at once.
    expect(performance.now() - started).toBeGreaterThanOrEqual(400);
  });
});

describe('PodScanner and the webhook\'s exclusions', () => {
  it('judges no pod in an excluded namespace or one labelled for exclusion', async () => {
    // As the API server's JSON decodes: plain objects, not client-node class instances.
    const pod = (namespace: string): unknown => ({
      metadata: { name: 'web', namespace, uid: `uid-${namespace}` },
      spec: { containers: [{ name: 'app', image: 'registry.example.com/acme/app:v1' }] },
      status: { phase: 'Running' },
    });
    const namespaces = ['apps', 'kube-system', 'sigward-system', 'cni', 'opted-out'];
    const clients = { core: { listPodForAllNamespaces: () => Promise.resolve({ items: namespaces.map(pod), metadata: {} }) } } as unknown as KubeClients;
    const judged: string[] = [];
    const evaluator = {
      evaluate: (uses: readonly ImageUse[], request: ReviewRequest) => {
        judged.push(request.namespace ?? '');
        return Promise.resolve(uses.map((use) => ({ use, action: 'allow' as const, policies: [], reasons: [] })));
      },
      ready: () => true,
    } as unknown as ImageEvaluator;
    const writer = { replace: () => undefined, namespaces: () => [], reported: () => Promise.resolve([]), flush: () => Promise.resolve() } as unknown as ReportWriter;
    const scanner = new PodScanner({
      clients, evaluator, writer, auditor: new Auditor(writer, new EventRecorder(clients, 'test', logger)),
      intervalMs: 0, ownNamespace: 'sigward-system', excludedNamespaces: ['cni'], excludeLabel: 'sigward.dev/exclude',
      namespaceLabels: (namespace): Record<string, string> => (namespace === 'opted-out' ? { 'sigward.dev/exclude': 'true' } : {}), logger,
    });
    await scanner.scan();
    expect(judged).toEqual(['apps']);
  });
});
