/**
 * The cached admission path: `sigward serve` (child process) with a policy for a signed image in
 * a crane registry, warmed by one review, then POST /validate driven for DURATION seconds over
 * 32 keep-alive HTTPS connections (undici Pool, connections 32, pipelining 1, 32 request loops,
 * each bounded by the deadline and a request cap). Then the same load against the floor
 * (bench/floor-server.mjs: bare node:https, JSON.parse, uid copied). Rounds alternate
 * sigward, floor, sigward, floor... so load drift hits both; each phase is preceded by an
 * unmeasured WARM-second load so both are measured JIT-warm.
 *
 * Every answer is checked (status 200, its uid, allowed: true). sigward's own metrics show how
 * many registry requests it made during the load: one tag re-resolution per 30 s (the digest
 * cache's TTL: tags move) is expected; more than that means the load left the cached path.
 * Server CPU per review (from /proc) is reported too: unlike throughput, it hardly depends on
 * the client or on other work on the machine.
 *
 * At saturation, latency is mostly queueing (32 requests in flight: mean latency = 32 /
 * throughput), so each server is also driven open-loop at a fixed RATE for RATE_S seconds,
 * latency counted from each request's scheduled time (no coordinated omission): the latency a
 * review sees when the webhook is not saturated.
 *
 *   node bench/admission-cached.mjs [--duration 10] [--warm 2] [--rounds 2] [--rate 1000] [--rate-s 5] [--cpu-prof DIR]
 * Targets: sigward throughput >= 0.7 x floor; sigward p99 <= 5 ms (judged on the saturating
 * rounds, as specified; the fixed-rate p99 is reported beside it).
 */
import { join } from 'node:path';
import { Pool, request } from 'undici';
import {
  ROOT, cosignKeyPair, cpuMs, cosignSign, daemon, fmt, option, percentile, printMachine, pushRandomImage, reviewTemplate,
  saveResult, scratch, sorted, startCraneRegistry, startSigwardServe, table, waitFor, writePolicy,
} from './lib.mjs';

const DURATION_S = option('duration', 10);
const WARM_S = option('warm', 2);
const ROUNDS = option('rounds', 2);
const CPU_PROF = option('cpu-prof', undefined);
const RATE = option('rate', 1000);
const RATE_S = option('rate-s', 5);
const CONNECTIONS = 32;
const MAX_REQUESTS = 3_000_000;
if (!(DURATION_S >= 1 && DURATION_S <= 120) || !(WARM_S >= 0 && WARM_S <= 30) || !(ROUNDS >= 1 && ROUNDS <= 5)) {
  throw new Error('bad --duration (1..120), --warm (0..30) or --rounds (1..5)');
}
if (!(RATE >= 0 && RATE <= 50_000) || !(RATE_S >= 1 && RATE_S <= 60)) throw new Error('bad --rate (0..50000; 0 skips) or --rate-s (1..60)');
const nodeArgs = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];

/**
 * A Pool with all its connections open (TLS handshakes done), so no measured request pays for
 * one: 32 handshakes at the start of a phase would otherwise be a good part of its p99.
 */
async function warmPool(origin, body, label) {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1, connect: { rejectUnauthorized: false } });
  for (let wave = 0; wave < 2; wave++) {
    await Promise.all(Array.from({ length: CONNECTIONS }, async (_, i) => {
      const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: body(`${label}-open-${wave}-${i}`) });
      await res.body.text();
      if (res.statusCode !== 200) throw new Error(`${label}: HTTP ${res.statusCode} while opening connections`);
    }));
  }
  return pool;
}

/** Drives a warm pool for `seconds`; returns throughput and latency percentiles (ms). */
async function drive(pool, body, seconds, label) {
  const latencies = new Float64Array(MAX_REQUESTS);
  let count = 0;
  let errors = 0;
  let firstError;
  let uidCounter = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline && count < MAX_REQUESTS) {
      const uid = `${label}-${++uidCounter}`;
      const t0 = performance.now();
      try {
        const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: body(uid) });
        const text = await res.body.text();
        const latency = performance.now() - t0;
        if (res.statusCode !== 200 || !text.includes(`"uid":"${uid}"`) || !text.includes('"allowed":true')) {
          throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
        }
        if (count < MAX_REQUESTS) latencies[count++] = latency;
      } catch (err) {
        errors++;
        firstError ??= err;
        if (errors > 100) throw new Error(`${label}: too many errors; first: ${firstError.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  const elapsed = (performance.now() - started) / 1000;
  if (errors > 0) throw new Error(`${label}: ${errors} failed requests; first: ${firstError.message}`);
  const s = sorted(latencies.subarray(0, count));
  return { requests: count, seconds: elapsed, rps: count / elapsed, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] };
}

/** Open loop on a warm pool: `rate` requests per second for `seconds`, latency from each scheduled send time. */
async function driveAtRate(pool, body, rate, seconds, label) {
  const total = Math.min(MAX_REQUESTS, Math.round(rate * seconds));
  const latencies = new Float64Array(total);
  let sent = 0;
  let done = 0;
  let errors = 0;
  let firstError;
  const started = performance.now();
  const inflight = new Set();
  const one = async (i) => {
    const scheduled = started + (i * 1000) / rate;
    const uid = `${label}-${i}`;
    try {
      const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: body(uid) });
      const text = await res.body.text();
      if (res.statusCode !== 200 || !text.includes(`"uid":"${uid}"`) || !text.includes('"allowed":true')) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      latencies[done++] = performance.now() - scheduled;
    } catch (err) {
      errors++;
      firstError ??= err;
    }
  };
  const hardStop = started + seconds * 1000 + 30_000;
  while (sent < total && performance.now() < hardStop) {
    const due = Math.min(total, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
    while (sent < due) {
      const p = one(sent++);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(inflight);
  if (errors > 0) throw new Error(`${label}: ${errors} failed requests; first: ${firstError.message}`);
  const s = sorted(latencies.subarray(0, done));
  return { rate, requests: done, p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99), max: s[s.length - 1] };
}

/** One review on a fresh connection; it must be admitted. */
async function reviewOnce(origin, text, uid) {
  const pool = new Pool(origin, { connections: 1, connect: { rejectUnauthorized: false } });
  try {
    const res = await pool.request({ path: '/validate', method: 'POST', headers: { 'content-type': 'application/json' }, body: text });
    const answer = await res.body.json();
    if (res.statusCode !== 200 || answer.response?.uid !== uid || answer.response?.allowed !== true) {
      throw new Error(`review not admitted: HTTP ${res.statusCode} ${JSON.stringify(answer).slice(0, 500)}`);
    }
  } finally {
    await pool.close();
  }
}

async function metricValue(metricsPort, pattern) {
  const res = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  const text = await res.body.text();
  let total = 0;
  for (const line of text.split('\n')) if (pattern.test(line)) total += Number(line.split(' ').pop());
  return total;
}

async function startFloor() {
  const floor = daemon(process.execPath, [...nodeArgs, join(ROOT, 'bench', 'floor-server.mjs')]);
  let port;
  await waitFor('floor server', () => {
    if (!floor.alive()) throw new Error(floor.output());
    port = /listening (\d+)/.exec(floor.output())?.[1];
    return port !== undefined;
  });
  return { origin: `https://127.0.0.1:${port}`, server: floor };
}

const before = printMachine('start');
const dir = scratch('cached');
const registry = await startCraneRegistry();
let sigward;
let floor;
try {
  const keys = await cosignKeyPair(dir);
  const digest = await pushRandomImage(dir, registry.host, 'bench/cached', 'v1');
  await cosignSign(`${registry.host}/bench/cached@${digest}`, keys.keyFile);
  const policyFile = writePolicy(dir, 'bench-cached', `${registry.host}/bench/**`, keys.pub);
  const body = reviewTemplate(`${registry.host}/bench/cached:v1`);

  sigward = await startSigwardServe({ policyFile, insecureRegistry: registry.host, nodeArgs });
  floor = await startFloor();
  // One review warms sigward's caches (digest, signatures, verdict); it must be admitted.
  await reviewOnce(sigward.origin, body('warm-1'), 'warm-1');
  const registryRequests = /^sigward_registry_requests_total/;
  const registryBefore = await metricValue(sigward.metricsPort, registryRequests);

  const targets = { sigward: sigward.origin, floor: floor.origin };
  const pids = { sigward: sigward.server.pid, floor: floor.server.pid };
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, origin] of Object.entries(targets)) {
      const pool = await warmPool(origin, body, `${name}-${round}`);
      if (WARM_S > 0) await drive(pool, body, WARM_S, `${name}-warm`);
      const cpuBefore = cpuMs(pids[name]);
      const result = await drive(pool, body, DURATION_S, name);
      await pool.close();
      // Server CPU per review: how much work each answer costs, whatever the client or the load.
      const cpuPerReviewUs = ((cpuMs(pids[name]) - cpuBefore) * 1000) / result.requests;
      rounds.push({ round, target: name, ...result, cpuPerReviewUs });
      console.log(`round ${round} ${name}: ${fmt(result.rps, 0)} reviews/s p50 ${fmt(result.p50, 2)} ms p99 ${fmt(result.p99, 2)} ms`);
    }
  }
  const fixedRate = [];
  if (RATE > 0) {
    for (const [name, origin] of Object.entries(targets)) {
      const pool = await warmPool(origin, body, `${name}-rate`);
      const result = await driveAtRate(pool, body, RATE, RATE_S, `${name}-rate`);
      await pool.close();
      fixedRate.push({ target: name, ...result });
      console.log(`fixed rate ${RATE}/s ${name}: p50 ${fmt(result.p50, 2)} ms p99 ${fmt(result.p99, 2)} ms`);
    }
  }
  const registryAfter = await metricValue(sigward.metricsPort, registryRequests);
  const expectedResolutions = Math.ceil((2 * ROUNDS * (WARM_S + DURATION_S) + 2 * RATE_S) / 30) + 1;
  if (registryAfter - registryBefore > expectedResolutions) {
    throw new Error(`sigward made ${registryAfter - registryBefore} registry requests during the cached load (at most ${expectedResolutions} tag re-resolutions expected)`);
  }
  const verdictHits = await metricValue(sigward.metricsPort, /^sigward_cache_requests_total\{cache="verdict",result="hit"\}/);

  const summary = (name) => {
    const rs = rounds.filter((r) => r.target === name);
    const total = rs.reduce((a, r) => a + r.requests, 0);
    const secs = rs.reduce((a, r) => a + r.seconds, 0);
    const cpu = rs.reduce((a, r) => a + r.cpuPerReviewUs * r.requests, 0) / total;
    return { rps: total / secs, p50: Math.max(...rs.map((r) => r.p50)), p99: Math.max(...rs.map((r) => r.p99)), cpuPerReviewUs: cpu };
  };
  const sig = summary('sigward');
  const flo = summary('floor');
  const ratio = sig.rps / flo.rps;
  const after = printMachine('end');
  console.log(`\nPOST /validate, cached, ${CONNECTIONS} keep-alive connections, ${ROUNDS} x ${DURATION_S} s per server (latency ms)`);
  table([
    ['round', 'server', 'requests', 'reviews/s', 'p50', 'p90', 'p99', 'max', 'server CPU µs/review'],
    ...rounds.map((r) => [r.round, r.target, r.requests, fmt(r.rps, 0), fmt(r.p50, 2), fmt(r.p90, 2), fmt(r.p99, 2), fmt(r.max, 1), fmt(r.cpuPerReviewUs, 0)]),
  ]);
  if (fixedRate.length > 0) {
    console.log(`\nopen loop at ${RATE} reviews/s for ${RATE_S} s, latency from the scheduled send time (ms)`);
    table([['server', 'requests', 'p50', 'p90', 'p99', 'max'], ...fixedRate.map((r) => [r.target, r.requests, fmt(r.p50, 2), fmt(r.p90, 2), fmt(r.p99, 2), fmt(r.max, 1)])]);
  }
  const throughputMet = ratio >= 0.7;
  const p99Met = sig.p99 <= 5;
  console.log(`\nsigward ${fmt(sig.rps, 0)}/s vs floor ${fmt(flo.rps, 0)}/s: ratio ${fmt(ratio, 2)}  target >= 0.70: ${throughputMet ? 'MET' : 'MISSED'}`);
  console.log(`sigward p99 (worst round) ${fmt(sig.p99, 2)} ms  target <= 5 ms: ${p99Met ? 'MET' : 'MISSED'}`);
  const rateSig = fixedRate.find((r) => r.target === 'sigward');
  if (rateSig) console.log(`sigward p99 at a fixed ${RATE}/s: ${fmt(rateSig.p99, 2)} ms (<= 5 ms: ${rateSig.p99 <= 5 ? 'yes' : 'no'})`);
  console.log(`server CPU per review: sigward ${fmt(sig.cpuPerReviewUs, 0)} µs, floor ${fmt(flo.cpuPerReviewUs, 0)} µs (floor/sigward ${fmt(flo.cpuPerReviewUs / sig.cpuPerReviewUs, 2)})`);
  console.log(`registry requests during the load: ${registryAfter - registryBefore} (tag re-resolutions; digest TTL 30 s); verdict cache hits: ${verdictHits}`);
  console.log(`sigward: ${sigward.command}`);
  saveResult('admission-cached', {
    machine: { before, after }, durationSeconds: DURATION_S, warmSeconds: WARM_S, connections: CONNECTIONS, rounds,
    sigward: sig, floor: flo, ratio, throughputMet, p99Met, fixedRate, verdictHits, command: sigward.command,
  });
} finally {
  await sigward?.server.stop();
  await floor?.server.stop();
  await registry.stop();
}
