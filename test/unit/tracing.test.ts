import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { fetch } from 'undici';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import { tracingFromEnv } from '../../src/config.js';
import { startTracing } from '../../src/tracing/otel.js';
import type { Tracing } from '../../src/tracing/tracing.js';
import { Evaluator } from '../../src/verify/evaluator.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';
import { Verifier } from '../../src/verify/verifier.js';
import { reviewOf, set } from './admission-fixtures.js';
import { acmePolicies } from './policy-fixtures.js';
import { MemoryRegistry, pushSignedImage, repository } from './cosign-fixtures.js';
import { startHarness, type Harness } from './server-support.js';

const REPO = repository('registry.example.com/acme/app');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

let exporter: InMemorySpanExporter;
let tracing: Tracing;
let harness: Harness;

beforeAll(async () => {
  exporter = new InMemorySpanExporter();
  tracing = startTracing({ exporter: new SimpleSpanProcessor(exporter) });
  const registry = new MemoryRegistry();
  pushSignedImage(registry, REPO, 'v1', keys.privateKey);
  const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const policies = acmePolicies(pem);
  const onPhase = tracing.phase.bind(tracing);
  const digests = new TtlCache<string, string>({ max: 100, ttlMs: 60_000 });
  const evaluator = new Evaluator({
    verifier: new Verifier({ registry, digests, onPhase }),
    policies: { policies: () => policies, ready: () => true },
    noMatch: 'deny',
    digests,
    verdicts: new TtlCache<string, readonly AuthorityVerdict[]>({ max: 100, ttlMs: 60_000 }),
    onPhase,
  });
  harness = await startHarness(evaluator, { tracing });
});

afterAll(async () => {
  await harness?.close();
  await tracing?.shutdown();
});

async function review(): Promise<boolean> {
  const doc = reviewOf('Pod');
  set(doc, 'request.object.spec', { containers: [{ name: 'app', image: `${REPO.name}:v1` }] });
  const res = await fetch(`https://127.0.0.1:${harness.server.port}/validate`, {
    method: 'POST',
    body: JSON.stringify(doc),
    headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` },
    dispatcher: harness.agent,
  });
  return ((await res.json()) as { response: { allowed: boolean } }).response.allowed;
}

const named = (spans: readonly ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);

describe('traces of reviews', () => {
  it('continue the caller\'s trace: one review span with a child span per phase of a cold review', async () => {
    expect(await review()).toBe(true);
    const spans = exporter.getFinishedSpans();
    const [root] = named(spans, 'sigward.review');
    expect(root?.spanContext().traceId).toBe(TRACE_ID);
    expect(root?.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(root?.attributes).toMatchObject({ 'http.route': '/validate', 'sigward.review.allowed': true, 'sigward.review.operation': 'CREATE', 'k8s.namespace.name': 'team-a' });
    for (const phase of ['resolve', 'discover', 'verify', 'decide']) {
      const [span] = named(spans, `sigward.${phase}`);
      expect(`${phase}: ${span?.spanContext().traceId} ${span?.parentSpanContext?.spanId}`).toBe(`${phase}: ${TRACE_ID} ${root?.spanContext().spanId}`);
      expect(span?.attributes['sigward.phase']).toBe(phase);
    }
    const [resolve] = named(spans, 'sigward.resolve');
    // Each phase span covers the time the phase histogram measured, inside the review (to the
    // millisecond of the wall clock a phase's end is read from).
    const ms = (t: readonly [number, number]): number => t[0] * 1000 + t[1] / 1e6;
    expect(ms(resolve!.startTime)).toBeGreaterThanOrEqual(ms(root!.startTime) - 2);
    expect(ms(resolve!.endTime)).toBeLessThanOrEqual(ms(root!.endTime) + 2);
  });

  it('mark a review answered whole from cache with a cached span', async () => {
    exporter.reset();
    expect(await review()).toBe(true);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['sigward.cached', 'sigward.review']);
  });
});

describe('tracingFromEnv', () => {
  it('is off by default and on only when the OTEL_* variables ask', () => {
    expect(tracingFromEnv({})).toBeUndefined();
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBeUndefined();
    expect(tracingFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toEqual({ exporter: 'otlp', serviceName: 'sigward' });
    expect(tracingFromEnv({ OTEL_TRACES_EXPORTER: 'console', OTEL_SERVICE_NAME: 'sigward-prod' })).toEqual({ exporter: 'console', serviceName: 'sigward-prod' });
    expect(tracingFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' })).toBeUndefined();
    expect(() => tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow("OTEL_TRACES_EXPORTER: expected otlp, console or none, got 'zipkin'");
  });
});
