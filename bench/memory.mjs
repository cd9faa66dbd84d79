/**
 * Resident memory of an in-process sigward Evaluator once IMAGES distinct images have been
 * evaluated and cached. The Evaluator, Verifier and caches are built exactly as `sigward serve`
 * builds them (dist/main.js CACHE_SETTINGS); the registry is an in-memory object implementing
 * sigward's Registry interface (resolve, getManifest, getBlob, getReferrers) that holds IMAGES
 * images, each with a legacy `.sig` manifest signed by one P-256 key with node:crypto (see
 * MemoryRegistry). Every image must be admitted.
 *
 * Memory is read after gc() (run node with --expose-gc): after the modules are loaded, after the
 * registry is built (before any evaluation), and after all evaluations. The evaluation loop is bounded by a time
 * budget as well as the image count.
 *
 *   node --expose-gc bench/memory.mjs [--images 10000] [--concurrency 32] [--budget-s 600]
 * (other V8 flags, e.g. --max-semi-space-size=16, are passed to node before the file name;
 * SIGWARD_BENCH_DIST=DIR measures another build)
 * Target: RSS after <= 200 MB.
 */
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { getHeapSpaceStatistics } from 'node:v8';
import { SIGWARD_DIST, distImport, fmt, option, printMachine, saveResult, table } from './lib.mjs';

const { TtlCache } = await distImport('cache/ttl-cache.js');
const { CACHE_SETTINGS } = await distImport('main.js');
const { parsePolicyText } = await distImport('policy/index.js');
const { Evaluator } = await distImport('verify/evaluator.js');
const { Verifier } = await distImport('verify/verifier.js');

const IMAGES = option('images', 10_000);
const CONCURRENCY = option('concurrency', 32);
const BUDGET_S = option('budget-s', 600);
if (!(IMAGES >= 1 && IMAGES <= 100_000) || !(CONCURRENCY >= 1 && CONCURRENCY <= 256)) throw new Error('bad --images or --concurrency');
if (typeof globalThis.gc !== 'function') throw new Error('run with: node --expose-gc bench/memory.mjs');

const HOST = 'registry.bench.example';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const utf8 = (text) => new TextEncoder().encode(text);

/**
 * An in-memory registry of IMAGES signed images; answers like RegistryClient, without the network.
 * It holds each image's signature (made up front by node:crypto) and derives the rest (image
 * manifest, simple-signing payload, `.sig` manifest) from the image's number on request, so
 * the registry itself takes about a megabyte and what grows is sigward's. Every answer is a
 * fresh byte array, as a network client's would be.
 */
class MemoryRegistry {
  calls = { resolve: 0, getManifest: 0, getBlob: 0, getReferrers: 0 };

  constructor(count) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.publicPem = publicKey.export({ type: 'spki', format: 'pem' });
    this.signatures = Array.from({ length: count }, (_, i) =>
      sign('sha256', this.payload(i), { key: privateKey, dsaEncoding: 'der' }).toString('base64'));
  }

  /** The image number of `HOST/mem/app-N`, or -1. */
  index(repo) {
    const match = /^registry\.bench\.example\/mem\/app-(\d+)$/.exec(repo.name);
    const i = match ? Number(match[1]) : -1;
    return i < this.signatures.length ? i : -1;
  }

  image(i) {
    return utf8(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(utf8(`config-${i}`)), size: 2 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(utf8(`layer-${i}`)), size: 1024 }],
    }));
  }

  digest(i) {
    return sha256(this.image(i));
  }

  /** The simple-signing payload cosign writes for image i. */
  payload(i) {
    return utf8(JSON.stringify({
      critical: { identity: { 'docker-reference': `${HOST}/mem/app-${i}` }, image: { 'docker-manifest-digest': this.digest(i) }, type: 'cosign container image signature' },
      optional: null,
    }));
  }

  signatureManifest(i) {
    const payload = this.payload(i);
    return utf8(JSON.stringify({
      schemaVersion: 2, mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(utf8('{}')), size: 2 },
      layers: [{ mediaType: SIMPLE_SIGNING, digest: sha256(payload), size: payload.length, annotations: { 'dev.cosignproject.cosign/signature': this.signatures[i] } }],
    }));
  }

  async resolve(repo, reference) {
    this.calls.resolve++;
    const i = this.index(repo);
    if (i < 0 || reference !== 'v1') throw new Error(`${repo.name}:${reference}: manifest unknown`);
    const bytes = this.image(i);
    return { mediaType: OCI_MANIFEST, digest: sha256(bytes), size: bytes.length };
  }

  async getManifest(repo, reference) {
    this.calls.getManifest++;
    const i = this.index(repo);
    if (i < 0) return undefined;
    const digest = this.digest(i);
    let bytes;
    if (reference === 'v1' || reference === digest) bytes = this.image(i);
    else if (reference === `sha256-${digest.slice(7)}.sig`) bytes = this.signatureManifest(i);
    else return undefined; // e.g. the referrers tag: no bundles here
    return { digest: sha256(bytes), mediaType: OCI_MANIFEST, bytes };
  }

  async getBlob(repo, descriptor) {
    this.calls.getBlob++;
    const i = this.index(repo);
    const payload = i < 0 ? undefined : this.payload(i);
    if (!payload || sha256(payload) !== descriptor.digest || payload.length !== descriptor.size) throw new Error(`blob ${descriptor.digest} unknown`);
    return payload;
  }

  async getReferrers() {
    this.calls.getReferrers++;
    return []; // a registry with the referrers API and no bundles
  }
}

const mb = (b) => b / 2 ** 20;

function memory() {
  globalThis.gc();
  globalThis.gc();
  const m = process.memoryUsage();
  return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), arrayBuffersMB: mb(m.arrayBuffers) };
}

/** Committed size of V8's young and old generations (MB), to see which part of the heap grew. */
function heapSpaces() {
  const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s]));
  return { newSpaceMB: mb(spaces.new_space?.space_size ?? 0), oldSpaceMB: mb(spaces.old_space?.space_size ?? 0), oldSpaceUsedMB: mb(spaces.old_space?.space_used_size ?? 0) };
}

const start = printMachine('start');
console.log(`build: ${SIGWARD_DIST}`);
const modulesOnly = memory();
const registry = new MemoryRegistry(IMAGES);
const key = registry.publicPem.trim().split('\n').map((l) => `          ${l}`).join('\n');
const { policies, problems } = parsePolicyText(`apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: bench-memory }
spec:
  images: [ { glob: "${HOST}/mem/**" } ]
  authorities:
    - name: bench-key
      key:
        data: |
${key}
`, 'bench-memory.yaml');
if (problems.length > 0) throw new Error(problems.join('\n'));

// The caches as `sigward serve` makes them (src/main.ts), minus metrics.
const cache = (settings, ttlOf) => new TtlCache({ ...settings, ...(ttlOf ? { ttlOf } : {}), failureTtlMs: CACHE_SETTINGS.failureTtlMs });
const digests = cache(CACHE_SETTINGS.digests);
const discoveries = cache(CACHE_SETTINGS.discoveries, (d) => (d.candidates.length === 0 ? CACHE_SETTINGS.failureTtlMs : CACHE_SETTINGS.discoveries.ttlMs));
const verdicts = cache(CACHE_SETTINGS.verdicts, (v) => (v.every((x) => x.verified) ? CACHE_SETTINGS.verdicts.ttlMs : CACHE_SETTINGS.failureTtlMs));
const verifier = new Verifier({ registry, digests, discoveries });
const evaluator = new Evaluator({ verifier, policies: { policies: () => policies, ready: () => true }, noMatch: 'deny', digests, verdicts });

const before = memory();
const request = (i) => ({
  uid: `mem-${i}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
  subResource: undefined, namespace: 'default', name: `web-${i}`, operation: 'CREATE', dryRun: false, object: {},
});
const signal = new AbortController().signal;
let next = 0;
let peakRssMB = 0;
let allowed = 0;
const denied = [];
const started = performance.now();
const budgetEnd = started + BUDGET_S * 1000;
const worker = async () => {
  while (next < IMAGES && performance.now() < budgetEnd) {
    const i = next++;
    const use = { path: 'spec.containers[0].image', pointer: '/spec/containers/0/image', image: `${HOST}/mem/app-${i}:v1`, inPod: true };
    const [decision] = await evaluator.evaluate([use], request(i), signal);
    if (decision.action === 'allow') allowed++;
    if (i % 100 === 0) peakRssMB = Math.max(peakRssMB, process.memoryUsage.rss() / 2 ** 20);
    else if (denied.length < 5) denied.push(decision.reasons.join('; '));
  }
};
await Promise.all(Array.from({ length: CONCURRENCY }, worker));
const evaluateSeconds = (performance.now() - started) / 1000;
if (next < IMAGES) throw new Error(`time budget of ${BUDGET_S} s spent after ${next} of ${IMAGES} images`);
if (allowed !== IMAGES) throw new Error(`${IMAGES - allowed} images were not admitted, e.g. ${denied.join(' | ')}`);
const after = memory();
const spaces = heapSpaces();
const sizes = { digests: digests.size, discoveries: discoveries.size, verdicts: verdicts.size };
const end = printMachine('end');

console.log(`\n${IMAGES} distinct signed images evaluated and cached in ${fmt(evaluateSeconds, 1)} s (${fmt(IMAGES / evaluateSeconds, 0)} images/s, ${CONCURRENCY} at a time)`);
table([
  ['MB', 'rss', 'heap used', 'heap total', 'external', 'array buffers'],
  ['modules loaded', ...Object.values(modulesOnly).map((v) => fmt(v))],
  ['+ registry (before)', ...Object.values(before).map((v) => fmt(v))],
  ['after', ...Object.values(after).map((v) => fmt(v))],
  ['after - before', ...Object.keys(after).map((k) => fmt(after[k] - before[k]))],
]);
console.log(`\ncache sizes: digests ${sizes.digests}, discoveries ${sizes.discoveries}, verdicts ${sizes.verdicts}`);
console.log(`registry calls: ${JSON.stringify(registry.calls)}`);
console.log(`peak RSS while evaluating (sampled every 100 images): ${fmt(peakRssMB)} MB`);
console.log(`V8 after gc(): new space ${fmt(spaces.newSpaceMB)} MB committed (empty after gc), old space ${fmt(spaces.oldSpaceMB)} MB committed / ${fmt(spaces.oldSpaceUsedMB)} MB used`);
const flags = process.execArgv.filter((a) => a !== '--expose-gc');
if (flags.length > 0) console.log(`node flags: ${flags.join(' ')}`);
const pass = after.rssMB <= 200;
console.log(`RSS after ${fmt(after.rssMB)} MB (of which ${fmt(after.rssMB - before.rssMB)} MB added by ${IMAGES} cached images)  target <= 200 MB: ${pass ? 'MET' : 'MISSED'}`);
saveResult('memory', {
  machine: { before: start, after: end }, build: SIGWARD_DIST, images: IMAGES, concurrency: CONCURRENCY, evaluateSeconds, modulesOnly, before, after, peakRssMB, spaces, nodeFlags: process.execArgv, sizes, calls: registry.calls, pass,
});
