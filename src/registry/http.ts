import tls from 'node:tls';
import { Agent, fetch } from 'undici';
import type { RegistryEvent } from './types.js';
import { HEADER } from '../constants.js';
import { SigwardError } from '../errors.js';
import { subject, type CallContext } from './context.js';
import { classifyFailure, deadlineExceeded, statusError, type Failure } from './failure.js';
import type { InsecureHosts } from './host.js';
import { drain, LIMITS, readBody, type BodyLimit } from './limits.js';
import { RETRYABLE_STATUS, retryDelayMs, sleep } from './retry.js';
import { publicOnlyLookup, type HostResolver, type NetLookup } from './realm.js';
import { HostLimiter } from './semaphore.js';

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL;
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Cap for the body of a 2xx answer; without one, a 2xx body is drained and dropped. */
  readonly limit?: BodyLimit;
  /**
   * Connect only to public addresses, checked where the host resolves (a token realm on a host
   * other than the registry's: see publicOnlyLookup). Kept across redirects.
   */
  readonly publicOnly?: boolean;
}

/** Response headers, looked up by case-insensitive name. */
export interface ReplyHeaders {
  get(name: string): string | null;
}

export interface HttpReply {
  readonly status: number;
  readonly headers: ReplyHeaders;
  /** The body of a 2xx answer read under `limit`; empty otherwise. */
  readonly body: Uint8Array;
  /** Where the answer came from, after redirects. */
  readonly url: URL;
}

export interface TransportOptions {
  readonly caCertificates: readonly string[];
  readonly insecure: InsecureHosts;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly maxConcurrentPerHost: number;
  readonly onRequest: ((event: RegistryEvent) => void) | undefined;
  /** How token realm hosts are resolved for the public-address check; the system resolver by default. */
  readonly resolveHost?: HostResolver | undefined;
}

type Attempt = { readonly ok: true; readonly reply: HttpReply } | { readonly ok: false; readonly failure: Failure };

const REDIRECT = new Set([301, 302, 303, 307, 308]);

/** The one place sigward speaks HTTP: undici behind a per-host limit, a per-request deadline
 * covering headers and body, bounded retries, and manual redirects. */
export class Transport {
  private readonly agent: Agent;
  private readonly publicAgent: Agent;
  private readonly limiter: HostLimiter;

  constructor(private readonly options: TransportOptions) {
    const extra = options.caCertificates;
    const agent = (lookup?: NetLookup): Agent => new Agent({
      connect: {
        // Extra CAs are added to, never substituted for, the public roots; TLS < 1.2 is refused.
        ...(extra.length > 0 ? { ca: [...tls.rootCertificates, ...extra] } : {}),
        minVersion: 'TLSv1.2',
        rejectUnauthorized: true,
        ...(lookup !== undefined ? { lookup } : {}),
      },
      connectTimeout: options.timeoutMs,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
    this.agent = agent();
    this.publicAgent = agent(publicOnlyLookup(options.resolveHost));
    this.limiter = new HostLimiter(options.maxConcurrentPerHost);
  }

  async close(): Promise<void> {
    await Promise.all([this.agent.close(), this.publicAgent.close()]);
  }

  /** Sends a request and follows redirects for GET and HEAD. The Authorization header is
   * dropped as soon as a redirect leaves the host it was meant for (blob storage on another
   * host must never see a registry token, cosign-spec §3.1), and a redirect may not downgrade
   * to plain HTTP unless its host is an insecure registry. */
  async send(ctx: CallContext, request: HttpRequest): Promise<HttpReply> {
    let current = request;
    for (let hop = 0; ; hop++) {
      const reply = await this.sendWithRetries(ctx, current);
      if (!REDIRECT.has(reply.status) || current.method === 'POST') return reply;
      if (hop >= LIMITS.redirects) {
        throw new SigwardError('REGISTRY_ERROR', `${subject(ctx)}: more than ${LIMITS.redirects} redirects`);
      }
      const next = redirectTarget(ctx, reply);
      if (!this.options.insecure.allows(next)) {
        throw new SigwardError('REGISTRY_ERROR', `${subject(ctx)}: refusing a redirect to plain HTTP host ${next.host}`);
      }
      const headers = next.host === current.url.host ? current.headers : withoutAuthorization(current.headers);
      current = { ...current, url: next, headers };
    }
  }

  private async sendWithRetries(ctx: CallContext, request: HttpRequest): Promise<HttpReply> {
    for (let attempt = 0; ; attempt++) {
      const result = await this.attempt(ctx, request);
      const last = attempt >= this.options.maxRetries;
      if (result.ok) {
        const { reply } = result;
        if (!RETRYABLE_STATUS.has(reply.status)) return reply;
        const delay = last ? undefined : retryDelayMs(reply.headers.get(HEADER.retryAfter), attempt);
        if (delay === undefined) throw statusError(ctx, reply.status, reply.url);
        await sleep(delay, ctx.signal, () => deadlineExceeded(ctx));
      } else {
        if (!result.failure.retryable || last) throw result.failure.error;
        await sleep(retryDelayMs(null, attempt) ?? 0, ctx.signal, () => deadlineExceeded(ctx));
      }
    }
  }

  /** One request. The timer starts once a host slot is held and covers the whole exchange, so a
   * server that accepts and never answers, or trickles its body, fails with REGISTRY_TIMEOUT. */
  private async attempt(ctx: CallContext, request: HttpRequest): Promise<Attempt> {
    let release: () => void;
    try {
      release = await this.limiter.acquire(request.url.host, ctx.signal, () => deadlineExceeded(ctx));
    } catch (err) {
      return { ok: false, failure: classifyFailure(err, ctx, { timedOut: false, timeoutMs: this.options.timeoutMs }) };
    }
    const started = performance.now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onCallerAbort = (): void => { controller.abort(); };
    ctx.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let answered = false;
    try {
      if (ctx.signal?.aborted) throw deadlineExceeded(ctx);
      const res = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
        redirect: 'manual',
        signal: controller.signal,
        dispatcher: request.publicOnly === true ? this.publicAgent : this.agent,
      });
      answered = true;
      this.report(ctx, String(res.status), started);
      const stream = res.body as ReadableStream<Uint8Array> | null;
      const success = res.status >= 200 && res.status < 300;
      let body: Uint8Array = EMPTY;
      if (success && request.limit !== undefined) {
        body = await readBody(stream, res.headers.get('content-length'), request.limit);
      } else {
        await drain(stream);
      }
      return { ok: true, reply: { status: res.status, headers: res.headers, body, url: request.url } };
    } catch (err) {
      const failure = classifyFailure(err, ctx, { timedOut, timeoutMs: this.options.timeoutMs });
      if (!answered) this.report(ctx, failure.status, started);
      return { ok: false, failure };
    } finally {
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onCallerAbort);
      release();
    }
  }

  /** Time to the answer's headers (or to the failure): what the registry took, not the body's size. */
  private report(ctx: CallContext, status: string, started: number): void {
    this.options.onRequest?.({ registry: ctx.repo.registry, operation: ctx.operation, status, seconds: (performance.now() - started) / 1000 });
  }
}

const EMPTY = new Uint8Array(0);

function redirectTarget(ctx: CallContext, reply: HttpReply): URL {
  const location = reply.headers.get('location');
  try {
    if (location === null) throw new Error('no Location header');
    return new URL(location, reply.url);
  } catch (err) {
    throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: redirect (HTTP ${reply.status}) without a usable Location`, { cause: err });
  }
}

function withoutAuthorization(headers: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name !== 'authorization'));
}
