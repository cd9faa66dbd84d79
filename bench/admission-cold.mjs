/**
 * Time to admit a never-seen image. Each iteration pushes a new image (its own repository, a
 * random layer, so a new digest) to a crane registry, signs it with the real cosign, then times
 * one POST /validate for a pod running it (sigward serve as a child process, over a warm
 * keep-alive connection). Then, on the same image, the registry round trips that admission
 * needs are timed one by one with plain HTTP requests over a warm keep-alive connection:
 *   1. HEAD the manifest by tag (tag -> digest)
 *   2. GET the `sha256-<hex>.sig` manifest (legacy signatures)
 *   3. GET the payload blob it names
 *   4. GET /v2/<name>/referrers/<digest> (cosign v3 bundles)
 *   5. GET the `sha256-<hex>` referrers tag index: the fallback sigward must make because this
 *      registry answers 4 with 404 (crane v0.21.9 has the referrers API switched off)
 *   6. GET the `sha256-<hex>.att` manifest (legacy attestations, looked up beside signatures).
 * The target is judged against the sum of all six, the requests sigward's own metrics show it
 * making per cold review (the bench warns when that count differs); the ratio against the four
 * first-listed (1-4) is printed too.
 * WARMUP iterations run first and are not counted (JIT and connection set-up, not admission).
 *
 *   node bench/admission-cold.mjs [--iterations 12] [--warmup 2] [--cpu-prof DIR] [--trace]
 * --trace loads bench/trace-hook.mjs into sigward and splits each review into time spent
 * waiting for the registry (the union of its requests' intervals) and sigward's own time.
 * Target: median cold review <= 1.3 x median sum of the round trips.
 */
import { Pool, request } from 'undici';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ROOT, cosignKeyPair, cosignSign, fmt, median, option, printMachine, pushRandomImage, reviewTemplate, saveResult, scratch,
  startCraneRegistry, startSigwardServe, table, writePolicy,
} from './lib.mjs';

const ITERATIONS = option('iterations', 12);
const WARMUP = option('warmup', 2);
const CPU_PROF = option('cpu-prof', undefined);
const TRACE = process.argv.includes('--trace');
if (!(ITERATIONS >= 10 && ITERATIONS <= 100) || !(WARMUP >= 0 && WARMUP <= 10)) throw new Error('bad --iterations (10..100) or --warmup');

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Times one plain registry request (status and body read); returns [ms, status, headers, body]. */
async function timed(pool, method, path, accept) {
  const t0 = performance.now();
  const res = await pool.request({ method, path, headers: accept ? { accept } : {} });
  const body = await res.body.arrayBuffer();
  return { ms: performance.now() - t0, status: res.statusCode, headers: res.headers, body: Buffer.from(body) };
}

async function roundTrips(pool, repo, tag) {
  const head = await timed(pool, 'HEAD', `/v2/${repo}/manifests/${tag}`, MANIFEST_ACCEPT);
  const digest = head.headers['docker-content-digest'];
  if (head.status !== 200 || typeof digest !== 'string') throw new Error(`HEAD manifest: HTTP ${head.status}`);
  const hex = digest.slice('sha256:'.length);
  const sig = await timed(pool, 'GET', `/v2/${repo}/manifests/sha256-${hex}.sig`,
    'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json');
  if (sig.status !== 200) throw new Error(`GET .sig manifest: HTTP ${sig.status}`);
  const layer = JSON.parse(sig.body.toString()).layers[0];
  const blob = await timed(pool, 'GET', `/v2/${repo}/blobs/${layer.digest}`);
  if (blob.status !== 200 || blob.body.length !== layer.size) throw new Error(`GET payload blob: HTTP ${blob.status}`);
  const referrers = await timed(pool, 'GET', `/v2/${repo}/referrers/${digest}`, 'application/vnd.oci.image.index.v1+json');
  const fallback = await timed(pool, 'GET', `/v2/${repo}/manifests/sha256-${hex}`, 'application/vnd.oci.image.index.v1+json');
  const att = await timed(pool, 'GET', `/v2/${repo}/manifests/sha256-${hex}.att`,
    'application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json');
  return {
    digest, head: head.ms, sig: sig.ms, blob: blob.ms, referrers: referrers.ms, referrersStatus: referrers.status, fallback: fallback.ms, att: att.ms,
  };
}

async function registryRequestCount(metricsPort) {
  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.body.text();
  let total = 0;
  for (const line of text.split('\n')) if (line.startsWith('sigward_registry_requests_total')) total += Number(line.split(' ').pop());
  return total;
}

/** Per /validate review in the trace: its duration, registry wait (union of requests), own time. */
function splitReviews(text, skip) {
  const events = text.trim().split('\n').map((line) => JSON.parse(line));
  const reviews = [];
  for (const start of events.filter((e) => e.ev === 'review-start' && e.path === '/validate')) {
    const finish = events.find((e) => e.ev === 'review-finish' && e.id === start.id);
    if (!finish) continue;
    const requests = events.filter((e) => e.ev === 'reg-create' && e.t >= start.t && e.t <= finish.t).map((c) => ({
      ...c, headers: events.find((e) => e.ev === 'reg-headers' && e.id === c.id)?.t, end: events.find((e) => e.ev === 'reg-end' && e.id === c.id)?.t ?? finish.t,
    }));
    let wait = 0;
    let reach = -Infinity;
    for (const r of [...requests].sort((a, b) => a.t - b.t)) {
      const from = Math.max(r.t, reach);
      if (r.end > from) wait += r.end - from;
      reach = Math.max(reach, r.end);
    }
    const total = finish.t - start.t;
    reviews.push({
      totalMs: total, registryWaitMs: wait, ownMs: total - wait,
      firstRequestMs: requests.length ? requests[0].t - start.t : NaN,
      afterLastMs: requests.length ? finish.t - Math.max(...requests.map((r) => r.end)) : NaN,
      requests: requests.map((r) => ({ method: r.method, path: r.path, atMs: r.t - start.t, headersMs: r.headers - r.t, totalMs: r.end - r.t })),
    });
  }
  return reviews.slice(skip);
}

function printTrace(reviews) {
  const m = (k) => median(reviews.map((r) => r[k]));
  console.log(`\ntrace of ${reviews.length} cold reviews inside sigward (medians, ms): review ${fmt(m('totalMs'), 2)} = registry wait ${fmt(m('registryWaitMs'), 2)}`
    + ` + own time ${fmt(m('ownMs'), 2)}; first registry request after ${fmt(m('firstRequestMs'), 2)}; answer ${fmt(m('afterLastMs'), 2)} after the last one`);
  const last = reviews[reviews.length - 1];
  console.log('last review, registry requests (ms from review start; time to headers; total):');
  for (const r of last.requests) {
    const path = r.path.replace(/([0-9a-f]{8})[0-9a-f]{56}/g, '$1…');
    console.log(`  +${fmt(r.atMs, 2)}  ${r.method} ${path}  headers ${fmt(r.headersMs, 2)}  total ${fmt(r.totalMs, 2)}`);
  }
}

const before = printMachine('start');
const dir = scratch('cold');
const registry = await startCraneRegistry();
let sigward;
let sigwardPool;
const registryPool = new Pool(`http://${registry.host}`, { connections: 1 });
try {
  const keys = await cosignKeyPair(dir);
  const policyFile = writePolicy(dir, 'bench-cold', `${registry.host}/cold/**`, keys.pub);
  const nodeArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
  const traceFile = join(dir, 'trace.jsonl');
  if (TRACE) nodeArgs.push('--import', join(ROOT, 'bench', 'trace-hook.mjs'));
  const env = TRACE ? { ...process.env, SIGWARD_TRACE_FILE: traceFile } : process.env;
  sigward = await startSigwardServe({ policyFile, insecureRegistry: registry.host, nodeArgs, env });
  sigwardPool = new Pool(sigward.origin, { connections: 1, connect: { rejectUnauthorized: false } });

  const rows = [];
  for (let i = 0; i < WARMUP + ITERATIONS; i++) {
    const repo = `cold/app-${i}`;
    const digest = await pushRandomImage(dir, registry.host, repo, 'v1');
    await cosignSign(`${registry.host}/${repo}@${digest}`, keys.keyFile);
    const uid = `cold-${i}`;
    const countBefore = await registryRequestCount(sigward.metricsPort);
    const t0 = performance.now();
    const res = await sigwardPool.request({
      path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: reviewTemplate(`${registry.host}/${repo}:v1`)(uid),
    });
    const answer = await res.body.json();
    const reviewMs = performance.now() - t0;
    if (res.statusCode !== 200 || answer.response?.uid !== uid || answer.response?.allowed !== true) {
      throw new Error(`cold review not admitted: HTTP ${res.statusCode} ${JSON.stringify(answer).slice(0, 500)}`);
    }
    const registryRequests = (await registryRequestCount(sigward.metricsPort)) - countBefore;
    const trips = await roundTrips(registryPool, repo, 'v1');
    if (trips.digest !== digest) throw new Error('HEAD resolved another digest');
    const sum4 = trips.head + trips.sig + trips.blob + trips.referrers;
    const sumAll = sum4 + trips.fallback + trips.att;
    if (i >= WARMUP) rows.push({ iteration: i - WARMUP + 1, reviewMs, registryRequests, ...trips, sum4, sumAll });
  }

  const col = (k) => rows.map((r) => r[k]);
  const med = Object.fromEntries(['reviewMs', 'head', 'sig', 'blob', 'referrers', 'fallback', 'att', 'sum4', 'sumAll'].map((k) => [k, median(col(k))]));
  const ratio = med.reviewMs / med.sumAll;
  const ratio4 = med.reviewMs / med.sum4;
  const after = printMachine('end');
  console.log(`\ncold admission: ${ITERATIONS} never-seen images after ${WARMUP} warm-up ones (ms)`);
  table([
    ['#', 'review', 'sigward reg. req.', '1 HEAD tag', '2 .sig', '3 blob', '4 referrers', '5 ref. tag', '6 .att', 'sum 1-6'],
    ...rows.map((r) => [r.iteration, fmt(r.reviewMs, 2), r.registryRequests, fmt(r.head, 2), fmt(r.sig, 2), fmt(r.blob, 2),
      `${fmt(r.referrers, 2)} (${r.referrersStatus})`, fmt(r.fallback, 2), fmt(r.att, 2), fmt(r.sumAll, 2)]),
    ['median', fmt(med.reviewMs, 2), '', fmt(med.head, 2), fmt(med.sig, 2), fmt(med.blob, 2), fmt(med.referrers, 2), fmt(med.fallback, 2),
      fmt(med.att, 2), fmt(med.sumAll, 2)],
  ]);
  const counts = [...new Set(rows.map((r) => r.registryRequests))];
  if (counts.length !== 1 || counts[0] !== 6) console.log(`\nWARNING: sigward made ${counts.join('/')} registry requests per cold review; the baseline times 6`);
  const pass = ratio <= 1.3;
  console.log(`\nmedian review ${fmt(med.reviewMs, 2)} ms / median sum of the 6 round trips ${fmt(med.sumAll, 2)} ms = ${fmt(ratio, 2)}  target <= 1.30: ${pass ? 'MET' : 'MISSED'}`);
  console.log(`(against round trips 1-4 only, ${fmt(med.sum4, 2)} ms: ${fmt(ratio4, 2)})`);
  console.log(`sigward: ${sigward.command}`);
  const traced = TRACE && existsSync(traceFile) ? splitReviews(readFileSync(traceFile, 'utf8'), WARMUP) : undefined;
  if (traced) printTrace(traced);
  saveResult('admission-cold', { machine: { before, after }, iterations: ITERATIONS, warmup: WARMUP, rows, medians: med, ratio, ratio4, pass, ...(traced ? { traced } : {}) });
} finally {
  await sigwardPool?.close();
  await registryPool.close();
  await sigward?.server.stop();
  await registry.stop();
}
