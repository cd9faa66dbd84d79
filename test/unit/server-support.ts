/**
 * Drives a real sigward webhook server on 127.0.0.1 over HTTPS with undici's fetch, trusting
 * exactly the certificate the server presents (no "insecure" shortcut).
 */
import { Agent, fetch } from 'undici';
import type { AdmissionResponse } from '../../src/admission/response.js';
import type { ImageDecision, ImageEvaluator, ImageUse, ReviewRequest } from '../../src/admission/types.js';
import { createLogger } from '../../src/log.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server.js';

export interface Script {
  evaluate?: (images: readonly ImageUse[], request: ReviewRequest, signal: AbortSignal) => Promise<readonly ImageDecision[]>;
  resolveDigest?: (image: string, request: ReviewRequest, signal: AbortSignal) => Promise<string>;
  evaluateCached?: (images: readonly ImageUse[], request: ReviewRequest) => readonly ImageDecision[] | undefined;
  resolveDigestCached?: (image: string, request: ReviewRequest) => string | undefined;
  /** Which images some policy covers; every image when not scripted. */
  covers?: (image: string, request: ReviewRequest) => boolean;
  ready?: boolean;
}

/** An evaluator that follows a script and records how it was called. */
export interface ScriptedEvaluator extends ImageEvaluator {
  readonly evaluated: { images: readonly ImageUse[]; request: ReviewRequest; signal: AbortSignal }[];
  readonly resolved: { image: string; signal: AbortSignal }[];
  readyNow: boolean;
}

export function scriptedEvaluator(script: Script = {}): ScriptedEvaluator {
  const evaluator: ScriptedEvaluator = {
    evaluated: [],
    resolved: [],
    readyNow: script.ready ?? true,
    evaluate(images, request, signal) {
      evaluator.evaluated.push({ images, request, signal });
      return (script.evaluate ?? allowAll)(images, request, signal);
    },
    resolveDigest(image, request, signal) {
      evaluator.resolved.push({ image, signal });
      if (script.resolveDigest === undefined) return Promise.reject(new Error('resolveDigest not scripted'));
      return script.resolveDigest(image, request, signal);
    },
    ready: () => evaluator.readyNow,
    covers: (image, request) => script.covers?.(image, request) ?? true,
    ...(script.evaluateCached !== undefined ? { evaluateCached: script.evaluateCached } : {}),
    ...(script.resolveDigestCached !== undefined ? { resolveDigestCached: script.resolveDigestCached } : {}),
  };
  return evaluator;
}

export function allowAll(images: readonly ImageUse[]): Promise<ImageDecision[]> {
  return Promise.resolve(images.map((use) => ({ use, action: 'allow' as const, policies: ['ClusterImagePolicy/acme'], reasons: [] })));
}

export interface Posted {
  readonly status: number;
  readonly json: Record<string, unknown>;
  readonly response: AdmissionResponse;
}

export interface Harness {
  readonly server: RunningServer;
  readonly logs: Record<string, unknown>[];
  readonly agent: Agent;
  /** POSTs `body` (a string as is, else as JSON); `response` is the AdmissionReview's response. */
  post(path: string, body: unknown): Promise<Posted>;
  get(path: string): Promise<{ status: number; text: string }>;
  metricsText(): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(evaluator: ImageEvaluator, options: Partial<ServerOptions> = {}): Promise<Harness> {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const server = await startServer({ evaluator, logger, host: '127.0.0.1', port: 0, metricsHost: '127.0.0.1', metricsPort: 0, ...options });
  const agent = new Agent({ connect: { ca: server.certificate } });
  const base = `https://127.0.0.1:${server.port}`;
  return {
    server,
    logs,
    agent,
    async post(path, body) {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      const res = await fetch(base + path, { method: 'POST', body: text, headers: { 'content-type': 'application/json' }, dispatcher: agent });
      const json = (await res.json()) as Record<string, unknown>;
      return { status: res.status, json, response: json.response as AdmissionResponse };
    },
    async get(path) {
      const res = await fetch(base + path, { dispatcher: agent });
      return { status: res.status, text: await res.text() };
    },
    async metricsText() {
      const res = await fetch(`http://127.0.0.1:${server.metricsPort}/metrics`);
      return res.text();
    },
    async close() {
      await server.close();
      await agent.close();
    },
  };
}

export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Polls until `check` holds (a server-side effect observed from outside), or fails. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
