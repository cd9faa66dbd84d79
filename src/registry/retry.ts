import { LIMITS } from './limits.js';

/** Answers worth another try: rate limiting and gateway trouble (distribution-spec leaves these
 * to the client; 500 is left out, as it usually means the request itself breaks the registry). */
export const RETRYABLE_STATUS: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Full-jitter exponential backoff: uniform in [0, min(max, base · 2^attempt)), so many
 * replicas retrying the same registry do not arrive in lockstep. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(LIMITS.backoffMaxMs, LIMITS.backoffBaseMs * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Retry-After as a delay in ms: delta-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined
 * when absent or unreadable. */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^[0-9]{1,10}$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** How long to wait before the next attempt, or `undefined` when the registry asks for longer
 * than sigward waits (then the call fails now rather than hold an admission review). */
export function retryDelayMs(retryAfter: string | null, attempt: number): number | undefined {
  const asked = retryAfterMs(retryAfter);
  if (asked === undefined) return backoffMs(attempt);
  return asked > LIMITS.maxRetryWaitMs ? undefined : asked;
}

/** Resolves after `ms`, or rejects with `aborted()` as soon as the signal fires. */
export function sleep(ms: number, signal: AbortSignal | undefined, aborted: () => Error): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(aborted());
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(aborted());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
