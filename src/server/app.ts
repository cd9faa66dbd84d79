import type { Tracing } from '../tracing/tracing.js';
import type { TLSSocket } from 'node:tls';
import express, { type Express, type Request, type Response } from 'express';
import { decodeEnvelope, type ReviewEnvelope } from '../admission/decode.js';
import type { AdmissionReviewResponse } from '../admission/response.js';
import { describeError, errorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { readJsonBody } from './body.js';
import type { Metrics } from './metrics.js';
import { mutate } from './mutate.js';
import { validate, type MaybePromise, type ReviewOutcome, type ReviewSettings } from './review.js';

/** What the app shares with the server around it: shutdown state and in-flight reviews. */
export interface ServerState {
  closing: boolean;
  inFlight: number;
  /** Called when `inFlight` drops to zero (graceful shutdown waits on it). */
  onIdle: (() => void) | undefined;
}

export interface AppOptions {
  readonly settings: ReviewSettings;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly maxBodyBytes: number;
  readonly state: ServerState;
  /** Reviews are answered only for a client whose certificate the server's client CA verified. */
  readonly clientCertificates?: boolean;
  readonly tracing?: Tracing;
}

const MAX_LOGGED_DENIALS = 20;

type Webhook = (envelope: ReviewEnvelope, settings: ReviewSettings, startedAt: number) => MaybePromise<ReviewOutcome>;

/**
 * The webhook's routes. Bodies are read by hand (no body-parser), answers are written with
 * one `end` call: the cached path goes from parsed body to response with no await.
 */
export function createApp(options: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.post('/validate', reviewRoute(validate, options));
  app.post('/mutate', reviewRoute(mutate, options));
  app.get('/healthz', (_req, res) => {
    sendJson(res, 200, { status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const ready = !options.state.closing && isReady(options);
    sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : options.state.closing ? 'shutting down' : 'not ready' });
  });
  app.use((_req, res) => {
    sendJson(res, 404, { error: 'NOT_FOUND', message: 'no such route' });
  });
  // Reached only by a fault outside the review handlers, which answer every review themselves.
  app.use((error: unknown, _req: Request, res: Response, next: express.NextFunction) => {
    options.logger.error('request failed', { error });
    if (res.headersSent) {
      next(error);
      return;
    }
    sendJson(res, 500, { error: errorCode(error), message: describeError(error) });
  });
  return app;
}

function reviewRoute(webhook: Webhook, options: AppOptions) {
  const { state, logger, metrics } = options;
  return async (req: Request, res: Response): Promise<void> => {
    const startedAt = performance.now();
    // The webhook is served by node:https only, so the socket is a TLS socket; read by field, not by class.
    const socket = req.socket as unknown as Partial<Pick<TLSSocket, 'authorized' | 'authorizationError'>>;
    if (options.clientCertificates === true && socket.authorized !== true) {
      // Not the API server: no review is read, so a forged one cannot make sigward read Secrets.
      const reason = socket.authorizationError ?? null;
      logger.warn('review refused: no client certificate from --client-ca', { path: req.path, reason: reason === null ? 'none presented' : String(reason) });
      metrics.recordAdmission({ operation: 'UNKNOWN', decision: 'unauthenticated', durationSeconds: seconds(startedAt) });
      sendJson(res, 403, { error: 'CLIENT_CERTIFICATE_REQUIRED', message: 'reviews are answered only for a client certificate issued by the --client-ca' }, true);
      return;
    }
    state.inFlight += 1;
    res.once('close', () => {
      state.inFlight -= 1;
      if (state.inFlight === 0) state.onIdle?.();
    });
    let envelope: ReviewEnvelope;
    try {
      envelope = decodeEnvelope(await readJsonBody(req, options.maxBodyBytes));
    } catch (error) {
      const code = errorCode(error);
      const status = code === 'REVIEW_TOO_LARGE' ? 413 : 400;
      logger.warn('request body is not an admission review', { path: req.path, status, error });
      metrics.recordAdmission({ operation: 'UNKNOWN', decision: status === 413 ? 'too_large' : 'invalid', durationSeconds: seconds(startedAt) });
      sendJson(res, status, { error: code === 'INTERNAL' ? 'REVIEW_INVALID' : code, message: describeError(error) }, status === 413);
      return;
    }
    const run = (): MaybePromise<ReviewOutcome> => webhook(envelope, options.settings, startedAt);
    const result = options.tracing?.enabled === true ? traced(options.tracing, req, envelope, run) : run();
    const outcome = result instanceof Promise ? await result : result;
    sendJson(res, 200, outcome.review, state.closing);
    record(outcome, envelope.uid, seconds(startedAt), options);
  };
}

/** The review's span: its path and uid, then what was decided. */
function traced(tracing: Tracing, req: Request, envelope: ReviewEnvelope, run: () => MaybePromise<ReviewOutcome>): MaybePromise<ReviewOutcome> {
  return tracing.review(req.headers, { 'http.route': req.path, 'sigward.review.uid': envelope.uid }, run, (outcome) => ({
    'sigward.review.allowed': outcome.review.response.allowed,
    ...(outcome.request === undefined ? {} : { 'sigward.review.operation': outcome.request.operation, 'k8s.namespace.name': outcome.request.namespace ?? '' }),
  }));
}

/** One log line and one metric per decision. */
function record(outcome: ReviewOutcome, uid: string, durationSeconds: number, options: AppOptions): void {
  const request = outcome.request;
  const operation = request?.operation ?? 'UNKNOWN';
  options.metrics.recordAdmission({ operation, decision: outcome.verdict, durationSeconds });
  options.logger.child({ uid }).info('admission decision', {
    kind: request?.kind.kind,
    namespace: request?.namespace,
    name: request?.name,
    operation,
    dryRun: request?.dryRun,
    decision: outcome.verdict,
    durationMs: Math.round(durationSeconds * 1e6) / 1e3,
    // Bounded like the response message: a 256-image denial must not make a 256 KiB log line.
    ...(outcome.denied.length > 0 ? { denied: outcome.denied.slice(0, MAX_LOGGED_DENIALS), deniedCount: outcome.denied.length } : {}),
  });
}

function isReady(options: AppOptions): boolean {
  try {
    return options.settings.evaluator.ready();
  } catch (error) {
    options.logger.error('readiness check failed', { error });
    return false;
  }
}

function sendJson(res: Response, status: number, body: AdmissionReviewResponse | Record<string, unknown>, close = false): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers).end(text);
}

function seconds(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
