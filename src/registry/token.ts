import { createHash } from 'node:crypto';
import { SigwardError } from '../errors.js';
import type { Credential } from './types.js';
import { LIMITS } from './limits.js';
import { isObject, parseJson } from './parse.js';

/** Who is asking: no credential, or one from a named source. */
export type Identity = Credential | { readonly kind: 'anonymous'; readonly source: 'anonymous' };

export const ANONYMOUS: Identity = { kind: 'anonymous', source: 'anonymous' };

/** A stable key for a credential that does not hold the secret itself, so a cache key can never
 * carry a password into a log or a heap dump's strings. */
export function identityKey(identity: Identity): string {
  if (identity.kind === 'anonymous') return 'anonymous';
  const secret = identity.kind === 'basic' ? `${identity.username}\0${identity.password}` : identity.identityToken;
  return createHash('sha256').update(`${identity.kind}\0${identity.source}\0${secret}`).digest('hex');
}

/** Bearer tokens are opaque but must be a single header-safe word (RFC 6750 b64token is
 * narrower; this only keeps CR/LF and spaces out of the Authorization header). */
const TOKEN = /^[\x21-\x7e]{1,16384}$/;

export interface IssuedToken {
  readonly token: string;
  readonly lifetimeMs: number;
}

/** Reads a token endpoint answer (distribution token spec, cosign-spec §3.2): `token` or
 * `access_token`, and `expires_in` seconds (60 when absent). */
export function parseTokenResponse(bytes: Uint8Array, where: string): IssuedToken {
  const doc = parseJson(bytes);
  const raw = isObject(doc) ? (doc.token ?? doc.access_token) : undefined;
  if (typeof raw !== 'string' || !TOKEN.test(raw)) {
    throw new SigwardError('REGISTRY_AUTH', `${where}: token endpoint answered without a usable token`);
  }
  const expires = isObject(doc) ? doc.expires_in : undefined;
  const seconds = typeof expires === 'number' && Number.isFinite(expires) && expires > 0 ? expires : LIMITS.defaultTokenLifetimeS;
  return { token: raw, lifetimeMs: Math.min(seconds, 86_400) * 1000 };
}

interface CachedAuthorization {
  readonly header: string;
  readonly expiresAt: number;
}

/** Authorization headers per (registry, repository, identity), each dropped shortly before its
 * token expires. Bounded: the oldest entry goes first. */
export class TokenCache {
  private readonly entries = new Map<string, CachedAuthorization>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.header;
  }

  /** Keeps a header for `lifetimeMs` less a margin (10 s, or a quarter of a short life). */
  set(key: string, header: string, lifetimeMs: number): void {
    const margin = Math.min(LIMITS.tokenExpiryMarginMs, lifetimeMs / 4);
    this.entries.delete(key);
    if (this.entries.size >= LIMITS.tokenCacheEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { header, expiresAt: this.now() + lifetimeMs - margin });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}

export function cacheKey(registry: string, repository: string, identity: Identity): string {
  return `${registry}\n${repository}\n${identityKey(identity)}`;
}

export function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}
