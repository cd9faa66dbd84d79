import { SigwardError } from '../errors.js';
import { subject, type CallContext } from './context.js';

/** Socket errors that mean the registry could not be reached at all: not retried. */
const UNREACHABLE = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EHOSTUNREACH',
  'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT',
]);

/** Connections dropped mid-exchange: transient, retried with backoff. */
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** Certificate and handshake failures: never retried, never downgraded. */
function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME_MISMATCH/.test(code)
  );
}

/** A failed attempt: the error to report, and whether trying again may help. */
export interface Failure {
  readonly error: SigwardError;
  readonly retryable: boolean;
  /** `timeout` or `error`, for the request metric. */
  readonly status: 'timeout' | 'error';
}

export interface AbortState {
  readonly timedOut: boolean;
  readonly timeoutMs: number;
}

export function deadlineExceeded(ctx: CallContext, cause?: unknown): SigwardError {
  return new SigwardError('DEADLINE_EXCEEDED', `${subject(ctx)}: the caller's deadline passed`, { cause });
}

/** Maps what fetch or a body stream threw to a coded error. The socket's own code and message
 * are kept; neither ever holds request headers, so no credential can leak through them. */
export function classifyFailure(err: unknown, ctx: CallContext, state: AbortState): Failure {
  if (err instanceof SigwardError) return { error: err, retryable: false, status: 'error' };
  // sigward's own refusal from inside the connection (a realm that resolves to a private address).
  const refusal = ownRefusal(err);
  if (refusal !== undefined) return { error: new SigwardError(refusal.code, `${subject(ctx)}: ${refusal.message}`, { cause: err }), retryable: false, status: 'error' };
  if (ctx.signal?.aborted) return { error: deadlineExceeded(ctx, err), retryable: false, status: 'timeout' };
  if (state.timedOut) {
    const error = new SigwardError(
      'REGISTRY_TIMEOUT',
      `${subject(ctx)}: no complete answer within ${state.timeoutMs} ms`,
      { cause: err },
    );
    return { error, retryable: false, status: 'timeout' };
  }
  const { code, message } = rootCause(err);
  const detail = code === undefined ? message : `${code}: ${message}`;
  // A peer that hangs up during the handshake (often a plain-HTTP server) is a TLS failure,
  // though Node reports it as ECONNRESET; retrying it would not help.
  if ((code !== undefined && isTlsCode(code)) || message.includes('before secure TLS connection was established')) {
    // Node's own hint (`--use-system-ca`) is not how sigward is told about a CA: name the flag.
    const reason = detail.replace(/;?\s*(?:if the root CA is installed locally,\s*)?try running Node\.js with --use-system-ca\.?/i, '');
    const hint = 'trust its CA with --ca-file, or name a plain-HTTP registry with --insecure-registry';
    return { error: new SigwardError('REGISTRY_TLS', `${subject(ctx)}: TLS failed (${reason}); ${hint}`, { cause: err }), retryable: false, status: 'error' };
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return { error: new SigwardError('REGISTRY_UNREACHABLE', `${subject(ctx)}: cannot connect (${detail})`, { cause: err }), retryable: false, status: 'error' };
  }
  if (code !== undefined && RESET.has(code)) {
    return { error: new SigwardError('REGISTRY_UNREACHABLE', `${subject(ctx)}: connection lost (${detail})`, { cause: err }), retryable: true, status: 'error' };
  }
  return { error: new SigwardError('REGISTRY_ERROR', `${subject(ctx)}: request failed (${detail})`, { cause: err }), retryable: false, status: 'error' };
}

function ownRefusal(err: unknown): SigwardError | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof SigwardError) return current;
    current = (current as ErrorLike).cause;
  }
  return undefined;
}

interface ErrorLike {
  readonly message?: unknown;
  readonly code?: unknown;
  readonly cause?: unknown;
}

/** The innermost `cause` with a code (fetch wraps socket errors in `TypeError: fetch failed`).
 * Read by shape, not `instanceof`: socket errors may come from another realm (a VM context). */
function rootCause(err: unknown): { code: string | undefined; message: string } {
  let current: unknown = err;
  let found: { code: string | undefined; message: string } = { code: undefined, message: String(err) };
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, message, cause } = current as ErrorLike;
    found = { code: typeof code === 'string' ? code : found.code, message: typeof message === 'string' ? firstLine(message) : found.message };
    current = cause;
  }
  return found;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The error for an answer sigward cannot use. */
export function statusError(ctx: CallContext, status: number, url?: URL): SigwardError {
  if (status === 400 && url?.protocol === 'http:') {
    // What an HTTPS server answers a plain-HTTP request with: the registry was named by
    // --insecure-registry but speaks TLS.
    return new SigwardError(
      'REGISTRY_ERROR',
      `${subject(ctx)}: HTTP 400 to a plain-HTTP request; if ${url.host} speaks HTTPS, do not name it with --insecure-registry`,
    );
  }
  if (status === 429) {
    return new SigwardError('REGISTRY_RATE_LIMITED', `${subject(ctx)}: rate limited (HTTP 429)`);
  }
  if (status === 403) return new SigwardError('REGISTRY_DENIED', `${subject(ctx)}: access denied (HTTP 403)`);
  return new SigwardError('REGISTRY_ERROR', `${subject(ctx)}: unexpected answer HTTP ${status}`);
}
