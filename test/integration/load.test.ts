/**
 * `sigward serve` under a steady load: 30 seconds at 200 reviews per second over 16 concurrent
 * keep-alive connections, mixing signed and unsigned images (verified once, then answered from
 * the caches). Every answer must be a well-formed review with the right `allowed`, the resident
 * memory of the serve process must stay flat from the warmed-up start to the end, and the
 * metrics must show cache hits. That the caches are bounded (LRU with a maximum size) is a unit
 * property of src/cache; here the workload repeats a small set of digests, so flat memory says
 * that per-request state is released, not that the caches evict.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { sampleSum } from '../support/metrics.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview, type WorkloadKind } from '../support/review.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { pushImage } from '../support/signed-images.js';

const DURATION_MS = 30_000;
const RATE_PER_SECOND = 200;
const CONNECTIONS = 16;
const TOTAL = (DURATION_MS / 1000) * RATE_PER_SECOND;
const MAX_RSS_GROWTH_KB = 30 * 1024;
const scratch = makeTempDir('load');
let registry: TestRegistry;
let signer: CosignKeyPair;
let serve: ServeProcess;
/** Image references and whether an enforce policy admits them. */
let mix: { image: string; allowed: boolean }[] = [];

/** Resident memory of `pid` in KiB, from /proc/<pid>/status. */
function residentKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

beforeAll(async () => {
  registry = await startDistributionRegistry({ tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  const [signedA, signedB, unsignedA, unsignedB] = await Promise.all([
    pushImage(registry, 'load/app', 'signed-a', [signer]),
    pushImage(registry, 'load/app', 'signed-b', [signer]),
    pushImage(registry, 'load/app', 'unsigned-a'),
    pushImage(registry, 'load/app', 'unsigned-b'),
  ]);
  mix = [
    { image: signedA.reference, allowed: true },
    { image: signedB.byDigest, allowed: true },
    { image: unsignedA.reference, allowed: false },
    { image: unsignedB.byDigest, allowed: false },
  ];
  serve = await startServe({
    policies: [{ name: 'load', images: [`${registry.host}/load/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] }],
    registries: [registry],
  });
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

interface LoadResult {
  /** Reviews that got an answer (right or wrong). */
  readonly answered: number;
  readonly errors: string[];
  readonly elapsedMs: number;
  /** The most a review was sent after its slot: workers fall behind only while answers are slow. */
  readonly maxLagMs: number;
  readonly rssAtFiveSecondsKb: number;
  readonly rssAtEndKb: number;
}

const KINDS: readonly WorkloadKind[] = ['Pod', 'Deployment', 'Job'];

/** CONNECTIONS workers take the next slot of a fixed schedule (one review every 1000/RATE ms)
 * until TOTAL reviews are sent; the loop is bounded by TOTAL and stops by itself. */
async function runLoad(): Promise<LoadResult> {
  const errors: string[] = [];
  const started = performance.now();
  let next = 0;
  let answered = 0;
  let maxLagMs = 0;
  let rssAtFiveSecondsKb = 0;
  const sampler = sleep(5000).then(() => { rssAtFiveSecondsKb = residentKb(serve.pid); });
  const worker = async (): Promise<void> => {
    for (let slot = next++; slot < TOTAL; slot = next++) {
      const due = started + (slot * 1000) / RATE_PER_SECOND;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else maxLagMs = Math.max(maxLagMs, -wait);
      const entry = mix[slot % mix.length];
      if (entry === undefined) throw new Error('empty image mix');
      const request = createReview(KINDS[slot % KINDS.length] ?? 'Pod', entry.image);
      try {
        const response = await serve.admit('/validate', request);
        answered++;
        const wellFormed = response.uid === request.request.uid && response.allowed === entry.allowed
          && (entry.allowed ? response.status === undefined : response.status?.code === 403 && (response.status.message ?? '').includes('NO_SIGNATURES'));
        if (!wellFormed) errors.push(`slot ${slot} ${entry.image}: ${JSON.stringify(response).slice(0, 300)}`);
      } catch (err) {
        errors.push(`slot ${slot} ${entry.image}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  await sampler;
  return { answered, errors, elapsedMs: performance.now() - started, maxLagMs, rssAtFiveSecondsKb, rssAtEndKb: residentKb(serve.pid) };
}

describe('when serve answers 200 reviews/s for 30 s over 16 keep-alive connections', () => {
  let result: LoadResult;
  let hitsBefore = 0;
  let hitsAfter = 0;

  beforeAll(async () => {
    // Warm up: each image verified once, so the load runs on the cached path.
    for (const entry of mix) await serve.admit('/validate', createReview('Pod', entry.image));
    hitsBefore = sampleSum(await serve.metrics(), 'sigward_cache_requests_total', { result: 'hit' });
    result = await runLoad();
    hitsAfter = sampleSum(await serve.metrics(), 'sigward_cache_requests_total', { result: 'hit' });
  }, 120_000);

  it('answers every review, well formed and with the right decision', () => {
    expect({ answered: result.answered, errors: result.errors.slice(0, 5), errorCount: result.errors.length }).toEqual({ answered: TOTAL, errors: [], errorCount: 0 });
  });

  it('kept the pace: no review was sent a second late for want of a free connection', () => {
    // 16 connections at 200/s leave each 80 ms per review; a slot is sent late only when every
    // connection is still waiting for an answer, so the lag is what slow answers cost.
    expect(result.maxLagMs).toBeLessThan(1000);
    expect(result.elapsedMs).toBeLessThan(DURATION_MS + 1000);
  });

  it('keeps resident memory flat from 5 s to the end', () => {
    expect(result.rssAtFiveSecondsKb).toBeGreaterThan(0);
    expect(result.rssAtEndKb - result.rssAtFiveSecondsKb).toBeLessThan(MAX_RSS_GROWTH_KB);
  });

  it('served the load from the caches', () => {
    expect(hitsAfter - hitsBefore).toBeGreaterThanOrEqual(TOTAL);
  });

  it('is still healthy', async () => {
    expect({ health: (await serve.get('/healthz')).status, exited: serve.exited() }).toEqual({ health: 200, exited: false });
  });
});
