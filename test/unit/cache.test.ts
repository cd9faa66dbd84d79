import { describe, expect, it } from '@jest/globals';
import { TtlCache, type LookupResult } from '../../src/cache/ttl-cache.js';
import { SigwardError } from '../../src/errors.js';

/** A clock the test steps by hand; starts above zero (lru-cache treats start 0 as "no TTL"). */
function manualClock() {
  let now = 1_000;
  return { now: () => now, advance: (ms: number) => { now += ms; } };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

function counting() {
  const results: LookupResult[] = [];
  return { results, onLookup: (result: LookupResult) => { results.push(result); } };
}

const DIGEST = `sha256:${'c3'.repeat(32)}`;

describe('TtlCache', () => {
  describe('when 200 lookups of one key miss at once', () => {
    it('runs the loader once and gives every caller its value', async () => {
      const lookups = counting();
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000, onLookup: lookups.onLookup });
      const gate = deferred<string>();
      let loads = 0;
      const loader = () => { loads += 1; return gate.promise; };
      const all = Promise.all(Array.from({ length: 200 }, () => cache.getOrLoad('docker.io/library/nginx:1.27', loader)));
      gate.resolve(DIGEST);
      const values = await all;
      expect(loads).toBe(1);
      expect(new Set(values)).toEqual(new Set([DIGEST]));
      expect(lookups.results.filter((r) => r === 'miss')).toHaveLength(1);
      expect(lookups.results.filter((r) => r === 'coalesced')).toHaveLength(199);
      expect(cache.peek('docker.io/library/nginx:1.27')).toBe(DIGEST);
    });

    it('shares one failure among the waiting callers', async () => {
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000 });
      const gate = deferred<string>();
      let loads = 0;
      const loader = () => { loads += 1; return gate.promise; };
      const calls = Array.from({ length: 20 }, () => cache.getOrLoad('k', loader));
      gate.reject(new SigwardError('REGISTRY_UNREACHABLE', 'connection refused'));
      const settled = await Promise.allSettled(calls);
      expect(loads).toBe(1);
      expect(settled.every((s) => s.status === 'rejected')).toBe(true);
    });
  });

  describe('when a value is cached', () => {
    it('serves peek synchronously and getOrLoad without calling the loader', async () => {
      const lookups = counting();
      const cache = new TtlCache<string, number>({ max: 10, ttlMs: 1_000, onLookup: lookups.onLookup });
      await cache.getOrLoad('k', () => Promise.resolve(7));
      expect(cache.peek('k')).toBe(7);
      await expect(cache.getOrLoad('k', () => Promise.reject(new Error('must not load')))).resolves.toBe(7);
      expect(lookups.results).toEqual(['miss', 'hit', 'hit']);
    });

    it('forgets it after the TTL', async () => {
      const clock = manualClock();
      const cache = new TtlCache<string, number>({ max: 10, ttlMs: 1_000, now: clock.now });
      await cache.getOrLoad('k', () => Promise.resolve(1));
      clock.advance(999);
      expect(cache.peek('k')).toBe(1);
      clock.advance(2);
      expect(cache.peek('k')).toBeUndefined();
      await expect(cache.getOrLoad('k', () => Promise.resolve(2))).resolves.toBe(2);
    });

    it('keeps a value for the lifetime ttlOf gives it (a negative answer briefly)', async () => {
      const clock = manualClock();
      const cache = new TtlCache<string, string>({
        max: 10, ttlMs: 60_000, ttlOf: (v) => (v === 'unsigned' ? 100 : 60_000), now: clock.now,
      });
      await cache.getOrLoad('bad', () => Promise.resolve('unsigned'));
      await cache.getOrLoad('good', () => Promise.resolve('verified'));
      clock.advance(101);
      expect(cache.peek('bad')).toBeUndefined();
      expect(cache.peek('good')).toBe('verified');
    });
  });

  describe('when bounded by bytes', () => {
    it('evicts the least recently used values once their sizes pass maxBytes, whatever the count', async () => {
      const cache = new TtlCache<string, string>({ max: 1000, ttlMs: 60_000, maxBytes: 3000, sizeOf: (v) => v.length });
      for (const key of ['a', 'b', 'c', 'd']) await cache.getOrLoad(key, () => Promise.resolve(key.repeat(1000)));
      expect(cache.peek('a')).toBeUndefined();
      expect(cache.peek('d')).toBe('d'.repeat(1000));
      expect(cache.size).toBe(3);
    });

    it('keeps no value larger than the whole budget', async () => {
      const cache = new TtlCache<string, string>({ max: 1000, ttlMs: 60_000, maxBytes: 100, sizeOf: (v) => v.length });
      await expect(cache.getOrLoad('big', () => Promise.resolve('x'.repeat(101)))).resolves.toHaveLength(101);
      expect(cache.peek('big')).toBeUndefined();
    });

    it('refuses maxBytes without sizeOf', () => {
      expect(() => new TtlCache<string, string>({ max: 10, ttlMs: 1000, maxBytes: 100 })).toThrow(RangeError);
    });
  });

  describe('when a load fails', () => {
    const notFound = (error: unknown) => error instanceof SigwardError && error.code === 'MANIFEST_UNKNOWN';

    it('caches a cacheable failure for the failure TTL only', async () => {
      const clock = manualClock();
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000, failureTtlMs: 100, isCacheableFailure: notFound, now: clock.now });
      let loads = 0;
      const failing = () => { loads += 1; return Promise.reject(new SigwardError('MANIFEST_UNKNOWN', 'no such tag')); };
      await expect(cache.getOrLoad('k', failing)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
      await expect(cache.getOrLoad('k', failing)).rejects.toMatchObject({ code: 'MANIFEST_UNKNOWN' });
      expect(loads).toBe(1);
      expect(cache.peek('k')).toBeUndefined();
      expect(cache.lookup('k')).toMatchObject({ ok: false });
      clock.advance(101);
      await expect(cache.getOrLoad('k', () => Promise.resolve(DIGEST))).resolves.toBe(DIGEST);
    });

    it('does not cache a failure the predicate refuses', async () => {
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000, failureTtlMs: 100, isCacheableFailure: notFound });
      await expect(cache.getOrLoad('k', () => Promise.reject(new SigwardError('REGISTRY_TIMEOUT', 'slow')))).rejects.toThrow('slow');
      await expect(cache.getOrLoad('k', () => Promise.resolve(DIGEST))).resolves.toBe(DIGEST);
    });

    it('turns a loader that throws synchronously into a rejection', async () => {
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000 });
      const loader = (): Promise<string> => { throw new Error('bad loader'); };
      await expect(cache.getOrLoad('k', loader)).rejects.toThrow('bad loader');
      await expect(cache.getOrLoad('k', () => Promise.resolve('v'))).resolves.toBe('v');
    });
  });

  describe('when more keys are loaded than max', () => {
    it('evicts the least recently used', async () => {
      const cache = new TtlCache<string, number>({ max: 2, ttlMs: 60_000 });
      await cache.getOrLoad('a', () => Promise.resolve(1));
      await cache.getOrLoad('b', () => Promise.resolve(2));
      expect(cache.peek('a')).toBe(1);
      await cache.getOrLoad('c', () => Promise.resolve(3));
      expect(cache.size).toBe(2);
      expect(cache.peek('b')).toBeUndefined();
      expect(cache.peek('a')).toBe(1);
      expect(cache.peek('c')).toBe(3);
    });
  });

  describe('when the cache is cleared while a load is under way', () => {
    it('does not store the stale result, and a new lookup loads again', async () => {
      const cache = new TtlCache<string, string>({ max: 10, ttlMs: 60_000 });
      const gate = deferred<string>();
      const stale = cache.getOrLoad('k', () => gate.promise);
      cache.clear();
      const fresh = cache.getOrLoad('k', () => Promise.resolve('new'));
      gate.resolve('old');
      await expect(stale).resolves.toBe('old');
      await expect(fresh).resolves.toBe('new');
      expect(cache.peek('k')).toBe('new');
    });
  });

  describe('when constructed with nonsense bounds', () => {
    it('refuses them', () => {
      expect(() => new TtlCache({ max: 0, ttlMs: 1 })).toThrow(RangeError);
      expect(() => new TtlCache({ max: 1, ttlMs: 0 })).toThrow(RangeError);
    });
  });
});
