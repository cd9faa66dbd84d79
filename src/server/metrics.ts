import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { LookupResult } from '../cache/ttl-cache.js';
import type { RegistryEvent } from '../registry/types.js';
import type { VerificationPhase } from '../verify/types.js';

const VERIFICATION_PHASES: readonly VerificationPhase[] = ['resolve', 'discover', 'verify', 'decide', 'cached'];

/** What one admission review ended as, for `sigward_admission_requests_total`. */
export interface AdmissionRecord {
  /** CREATE, UPDATE, DELETE, CONNECT, or `UNKNOWN` for a body that was not a review. */
  readonly operation: string;
  /** allow, deny, warn, audit, or `invalid` / `too_large` for a body answered with 400 / 413. */
  readonly decision: string;
  readonly durationSeconds: number;
}

/**
 * The metrics of docs/design.md §3, on a registry of their own (not prom-client's global one, so two
 * servers in one process, as in tests, do not collide). Other modules feed it through these
 * methods and never import prom-client.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly admissions: Counter<'operation' | 'decision'>;
  private readonly duration: Histogram;
  private readonly registryRequests: Counter<'registry' | 'status'>;
  private readonly registryDuration: Histogram<'registry' | 'operation'>;
  private readonly exemptionUses: Counter<'exemption'>;
  private readonly cacheRequests: Counter<'cache' | 'result'>;
  private readonly verifications: Counter<'result'>;
  private readonly phases: Map<VerificationPhase, Histogram.Internal<'phase'>>;

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.admissions = new Counter({
      name: 'sigward_admission_requests_total',
      help: 'Admission reviews answered, by operation and decision.',
      labelNames: ['operation', 'decision'],
      registers,
    });
    this.duration = new Histogram({
      name: 'sigward_admission_duration_seconds',
      help: 'Time from receiving an admission review to answering it.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.registryRequests = new Counter({
      name: 'sigward_registry_requests_total',
      help: 'Requests to OCI registries, by registry host and HTTP status (or failure kind).',
      labelNames: ['registry', 'status'],
      registers,
    });
    this.registryDuration = new Histogram({
      name: 'sigward_registry_request_duration_seconds',
      help: 'Time a registry took to answer one request (to its headers), by registry host and operation (resolve, manifest, blob, referrers, token).',
      labelNames: ['registry', 'operation'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.exemptionUses = new Counter({
      name: 'sigward_exemptions_used_total',
      help: 'Images admitted by an ImageExemption that would otherwise have been denied or warned, by exemption.',
      labelNames: ['exemption'],
      registers,
    });
    this.cacheRequests = new Counter({
      name: 'sigward_cache_requests_total',
      help: 'Cache lookups, by cache and result (hit, miss, coalesced).',
      labelNames: ['cache', 'result'],
      registers,
    });
    this.verifications = new Counter({
      name: 'sigward_verifications_total',
      help: 'Image verifications, by result.',
      labelNames: ['result'],
      registers,
    });
    const phaseHistogram = new Histogram({
      name: 'sigward_verification_phase_seconds',
      help: 'Time spent per verification phase: resolve, discover (and fetch), verify, decide, and whole decisions from cache (cached).',
      labelNames: ['phase'],
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    // Children looked up once: the cached path records a phase on every review.
    this.phases = new Map(VERIFICATION_PHASES.map((phase) => [phase, phaseHistogram.labels(phase)]));
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  recordAdmission(record: AdmissionRecord): void {
    this.admissions.inc({ operation: record.operation, decision: record.decision });
    this.duration.observe(record.durationSeconds);
  }

  recordRegistry(event: RegistryEvent): void {
    this.registryRequests.inc({ registry: event.registry, status: event.status });
    this.registryDuration.observe({ registry: event.registry, operation: event.operation }, event.seconds);
  }

  recordExemption(exemption: string): void {
    this.exemptionUses.inc({ exemption });
  }

  recordCache(cache: string, result: LookupResult): void {
    this.cacheRequests.inc({ cache, result });
  }

  recordPhase(phase: VerificationPhase, seconds: number): void {
    this.phases.get(phase)?.observe(seconds);
  }

  /** `result` is a small fixed set chosen by the verifier (verified, failed, error, …). */
  recordVerification(result: string): void {
    this.verifications.inc({ result });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
