/**
 * The OpenTelemetry adapter (the only @opentelemetry/* importer; loaded only when tracing is on).
 * The OTLP exporter reads its standard variables itself (OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, _HEADERS, _TIMEOUT); spans are batched, so a slow
 * collector never delays a review.
 */
import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { sigwardVersion } from '../version.js';
import type { VerificationPhase } from '../verify/types.js';
import type { SpanAttributes, Tracing, TracesExporter } from './tracing.js';

export interface TracingOptions {
  /** The exporter config.ts chose, or a processor of the caller's (tests: an in-memory exporter). */
  readonly exporter: TracesExporter | SpanProcessor;
  readonly serviceName?: string;
}

const headerGetter = {
  keys: (carrier: Readonly<Record<string, unknown>>) => Object.keys(carrier),
  get: (carrier: Readonly<Record<string, string | string[] | undefined>>, key: string) => carrier[key],
};

export function startTracing(options: TracingOptions): Tracing {
  const processor = typeof options.exporter === 'string'
    ? new BatchSpanProcessor(options.exporter === 'otlp' ? new OTLPTraceExporter() : new ConsoleSpanExporter())
    : options.exporter;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'sigward', 'service.version': sigwardVersion() }),
    spanProcessors: [processor],
  });
  // The AsyncLocalStorage context manager: a phase measured deep in a review finds the review's span.
  provider.register();
  const tracer = provider.getTracer('sigward', sigwardVersion());
  const propagator = new W3CTraceContextPropagator();

  const finish = (span: Span, attributes: SpanAttributes | undefined): void => {
    if (attributes !== undefined) span.setAttributes(attributes);
    span.end();
  };
  const failed = (span: Span, error: unknown): void => {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };

  return {
    enabled: true,
    review(headers, attributes, work, describe) {
      const parent = propagator.extract(ROOT_CONTEXT, headers, headerGetter);
      return tracer.startActiveSpan('sigward.review', { kind: SpanKind.SERVER, attributes }, parent, (span) => {
        try {
          const result = work();
          if (result instanceof Promise) {
            return result.then(
              (value: Awaited<typeof result>) => { finish(span, describe?.(value)); return value; },
              (error: unknown) => { failed(span, error); throw error; },
            ) as typeof result;
          }
          finish(span, describe?.(result as Awaited<typeof result>));
          return result;
        } catch (error) {
          failed(span, error);
          throw error;
        }
      });
    },
    phase(phase: VerificationPhase, seconds: number) {
      // The SDK anchors a trace's clock to Date.now() at its root span; so does this, or a phase
      // span would drift from its review's by the gap between the wall and the monotonic clock.
      const end = Date.now();
      const span = tracer.startSpan(`sigward.${phase}`, { startTime: end - seconds * 1000, attributes: { 'sigward.phase': phase } }, context.active());
      span.end(end);
    },
    async shutdown() {
      await provider.shutdown();
      trace.disable();
    },
  };
}
