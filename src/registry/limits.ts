import type { SigwardError } from '../errors.js';

const MiB = 1024 * 1024;

/** Defaults of RegistryClientOptions. */
export const DEFAULTS = {
  requestTimeoutMs: 10_000,
  maxRetries: 2,
  maxConcurrentPerHost: 16,
  maxManifestBytes: 4 * MiB,
  maxBlobBytes: 16 * MiB,
} as const;

/** Fixed bounds: everything a registry sends is hostile until checked, so nothing it controls
 * (body sizes, redirect chains, retry waits, pages, cache growth) is unbounded. */
export const LIMITS = {
  tokenResponseBytes: 256 * 1024,
  /** Error bodies are drained (to keep the connection) only up to this size, then dropped. */
  errorBodyBytes: 64 * 1024,
  redirects: 5,
  referrerPages: 10,
  tokenCacheEntries: 1024,
  /** A Retry-After longer than this is not waited for: the call fails at once instead, since an
   * admission review cannot wait for a rate-limit window. */
  maxRetryWaitMs: 3_000,
  backoffBaseMs: 100,
  backoffMaxMs: 2_000,
  /** Tokens are dropped this long before their stated expiry (or at half their life, if shorter). */
  tokenExpiryMarginMs: 10_000,
  defaultTokenLifetimeS: 60,
} as const;

/** A cap on a response body. `exceeded` builds the error, given the byte count seen (declared
 * by Content-Length, or received so far). */
export interface BodyLimit {
  readonly maxBytes: number;
  readonly exceeded: (bytes: number) => SigwardError;
}

/**
 * Reads a body to the end, refusing it as soon as it is known to pass the cap: up front when
 * Content-Length says so, otherwise at the first chunk past it (reading stops there, so a
 * hostile registry cannot make sigward buffer more than the cap plus one chunk).
 */
export async function readBody(
  body: ReadableStream<Uint8Array> | null,
  contentLength: string | null,
  limit: BodyLimit,
): Promise<Uint8Array> {
  const declared = contentLength === null ? undefined : Number(contentLength);
  if (declared !== undefined && Number.isSafeInteger(declared) && declared > limit.maxBytes) {
    await body?.cancel().catch(() => undefined);
    throw limit.exceeded(declared);
  }
  if (body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  // Leaving the loop by `throw` cancels the stream, which closes the connection.
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > limit.maxBytes) throw limit.exceeded(total);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

/** Reads and drops a body nobody needs (an error page, a redirect) so the connection can be
 * reused; past a small size, or on any failure, it is cancelled instead: the status is what
 * matters, and a registry cannot stall a call by sending a long error page. */
export async function drain(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (body === null) return;
  let total = 0;
  try {
    for await (const chunk of body) {
      total += chunk.byteLength;
      if (total > LIMITS.errorBodyBytes) break;
    }
  } catch {
    // Already answered: a broken error body changes nothing.
  }
}
