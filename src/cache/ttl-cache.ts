import { LRUCache } from 'lru-cache';

/** What an entry takes besides its value: key, wrapper object, bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 256;

export type LookupResult = 'hit' | 'miss' | 'coalesced';

/** Keys and values are never null or undefined (lru-cache uses undefined for a miss). */
export type Defined = object | string | number | bigint | boolean | symbol;

/** A settled load as stored: a value, or a failure kept for the (shorter) failure TTL. */
export type CacheEntry<V> = { readonly ok: true; readonly value: V } | { readonly ok: false; readonly error: Error };

export interface TtlCacheOptions<V = unknown> {
  /** Entries kept at most; the least recently used entry is evicted first. Bounds memory. */
  readonly max: number;
  /**
   * Bytes kept at most, with `sizeOf` saying what a value takes (roughly: the bytes it holds).
   * A value may hold registry content, so a count alone does not bound memory.
   */
  readonly maxBytes?: number;
  readonly sizeOf?: (value: V) => number;
  /** Lifetime of a loaded value, in milliseconds. */
  readonly ttlMs: number;
  /** Lifetime of one loaded value when it differs from `ttlMs` (a negative verdict kept briefly). */
  readonly ttlOf?: (value: V) => number;
  /** Lifetime of a cached failure; 0 (the default) caches no failure. */
  readonly failureTtlMs?: number;
  /** Which load failures may be cached (a 404 may; a timeout or a cancelled load must not). */
  readonly isCacheableFailure?: (error: unknown) => boolean;
  /** Called once per lookup, for metrics. */
  readonly onLookup?: (result: LookupResult) => void;
  /** Clock in milliseconds, for tests; it must return positive numbers. */
  readonly now?: () => number;
}

/**
 * A TTL LRU cache with single-flight loads: concurrent misses for one key share one loader
 * call, so a burst of pods naming one image makes one registry round trip, not hundreds.
 */
export class TtlCache<K extends Defined, V extends Defined> {
  private readonly entries: LRUCache<K, CacheEntry<V>>;
  /**
   * Loads under way. A load stores its result only while it is still the key's current load:
   * after `delete` or `clear` (a policy or key changed) a result computed before is dropped.
   */
  private readonly inflight = new Map<K, Flight<V>>();
  private readonly options: TtlCacheOptions<V>;

  constructor(options: TtlCacheOptions<V>) {
    if (!Number.isInteger(options.max) || options.max < 1) throw new RangeError('TtlCache max must be a positive integer');
    if (!(options.ttlMs > 0)) throw new RangeError('TtlCache ttlMs must be positive');
    this.options = options;
    const { now, maxBytes, sizeOf } = options;
    if ((maxBytes === undefined) !== (sizeOf === undefined)) throw new RangeError('TtlCache maxBytes and sizeOf go together');
    this.entries = new LRUCache<K, CacheEntry<V>>({
      max: options.max,
      ...(maxBytes !== undefined && sizeOf !== undefined
        ? {
            maxSize: maxBytes,
            // lru-cache wants a positive integer; a failure is its message and some overhead.
            sizeCalculation: (entry: CacheEntry<V>) =>
              Math.max(1, Math.ceil(entry.ok ? sizeOf(entry.value) : ENTRY_OVERHEAD_BYTES + 2 * entry.error.message.length)),
          }
        : {}),
      ttl: options.ttlMs,
      // An expired entry is never served, not even once while it is being replaced.
      allowStale: false,
      updateAgeOnGet: false,
      // An injected clock is read on every check so tests can step it; the real clock is read
      // at most once per millisecond (lru-cache's default).
      ...(now !== undefined ? { perf: { now }, ttlResolution: 0 } : {}),
    });
  }

  /** The cached value, synchronously, for the fast path; undefined on a miss or a cached failure. */
  peek(key: K): V | undefined {
    const entry = this.lookup(key);
    return entry?.ok === true ? entry.value : undefined;
  }

  /**
   * The cached entry (value or failure) without loading. Reports 'hit' when there is one; a
   * miss is reported by the `getOrLoad` that the caller makes next, so it is counted once.
   */
  lookup(key: K): CacheEntry<V> | undefined {
    const entry = this.entries.get(key);
    if (entry !== undefined) this.options.onLookup?.('hit');
    return entry;
  }

  /** The cached value, a load already under way for this key, or a new load. */
  getOrLoad(key: K, loader: () => Promise<V>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      this.options.onLookup?.('hit');
      return entry.ok ? Promise.resolve(entry.value) : Promise.reject(entry.error);
    }
    const running = this.inflight.get(key);
    if (running !== undefined) {
      this.options.onLookup?.('coalesced');
      return running.promise;
    }
    this.options.onLookup?.('miss');
    return this.load(key, loader);
  }

  set(key: K, value: V): void {
    this.entries.set(key, { ok: true, value });
  }

  delete(key: K): void {
    this.inflight.delete(key);
    this.entries.delete(key);
  }

  clear(): void {
    this.inflight.clear();
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private load(key: K, loader: () => Promise<V>): Promise<V> {
    const token = Symbol('load');
    const promise = (async () => loader())().then(
      (value) => {
        this.settle(key, token, { ok: true, value }, this.options.ttlOf?.(value) ?? this.options.ttlMs);
        return value;
      },
      (error: unknown) => {
        const failureTtl = this.options.failureTtlMs ?? 0;
        const cacheable = failureTtl > 0 && (this.options.isCacheableFailure?.(error) ?? false);
        this.settle(key, token, cacheable ? { ok: false, error: asError(error) } : undefined, failureTtl);
        throw error;
      },
    );
    this.inflight.set(key, { promise, token });
    return promise;
  }

  private settle(key: K, token: symbol, entry: CacheEntry<V> | undefined, ttl: number): void {
    if (this.inflight.get(key)?.token !== token) return;
    this.inflight.delete(key);
    if (entry !== undefined) this.entries.set(key, entry, { ttl });
  }
}

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly token: symbol;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
