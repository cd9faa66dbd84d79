/**
 * Traces of reviews (OpenTelemetry), off unless the standard OTEL_* variables ask for them
 * (config.ts reads them). Off, every call is a plain function call: nothing of OpenTelemetry is
 * loaded and the cached path does not change. On (tracing/otel.ts), one span per review, which
 * continues the caller's W3C trace context (`traceparent`, as a traced kube-apiserver sends
 * it), and one child span per verification phase, made from the same measurements the phase
 * histogram records.
 */
import type { VerificationPhase } from '../verify/types.js';

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export interface Tracing {
  readonly enabled: boolean;
  /** Runs `work` (sync or async) as the span of one review; `describe` adds what its result says. */
  review<T>(headers: Readonly<Record<string, string | string[] | undefined>>, attributes: SpanAttributes, work: () => T, describe?: (result: Awaited<T>) => SpanAttributes): T;
  /** A phase that just ended, `seconds` long, as a child of the active span. */
  phase(phase: VerificationPhase, seconds: number): void;
  /** Flushes what is buffered and stops exporting. */
  shutdown(): Promise<void>;
}

export const NO_TRACING: Tracing = {
  enabled: false,
  review: (_headers, _attributes, work) => work(),
  phase: () => undefined,
  shutdown: () => Promise.resolve(),
};

/** What config.ts found in OTEL_*: which exporter, or none (tracing off). */
export type TracesExporter = 'otlp' | 'console';
