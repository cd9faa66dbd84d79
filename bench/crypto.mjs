/**
 * One ECDSA P-256 signature check over a simple-signing payload: sigward's verifier
 * (dist/crypto/verify.js; @noble/curves underneath in the current build) against node:crypto's `crypto.verify`
 * with a parsed KeyObject (OpenSSL). Both check the same 16 signatures in turn, made by
 * node:crypto in DER as cosign writes them; every result must be true. WARMUP checks first,
 * then ITERATIONS timed checks, one at a time, each timed on its own.
 *
 *   node bench/crypto.mjs [--iterations 1000] [--warmup 200]   (SIGWARD_BENCH_DIST=DIR: another build)
 * No target: it explains the cost of the one CPU-heavy step of a cold admission.
 */
import { createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import { SIGWARD_DIST, distImport, fmt, mean, median, option, percentile, printMachine, saveResult, sorted, table } from './lib.mjs';

const { parsePublicKey } = await distImport('crypto/keys.js');
const { verifySignature } = await distImport('crypto/verify.js');

const ITERATIONS = option('iterations', 1000);
const WARMUP = option('warmup', 200);
if (!(ITERATIONS >= 100 && ITERATIONS <= 100_000) || !(WARMUP >= 0 && WARMUP <= 10_000)) throw new Error('bad --iterations/--warmup');

const before = printMachine('start');
console.log(`build: ${SIGWARD_DIST}`);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' });
const digest = `sha256:${'ab'.repeat(32)}`;
const payload = new TextEncoder().encode(JSON.stringify({
  critical: { identity: { 'docker-reference': '127.0.0.1:5000/bench/app' }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
  optional: null,
}));
const signatures = Array.from({ length: 16 }, () => new Uint8Array(sign('sha256', payload, { key: privateKey, dsaEncoding: 'der' })));

const sigwardKey = parsePublicKey(pem);
const nodeKey = createPublicKey(pem);
const candidates = {
  'sigward verifySignature': (sig) => verifySignature(sigwardKey, payload, sig),
  'node:crypto verify (KeyObject)': (sig) => verify('sha256', payload, nodeKey, sig),
};

const results = {};
for (const [name, check] of Object.entries(candidates)) {
  for (let i = 0; i < WARMUP; i++) {
    if (!check(signatures[i % signatures.length])) throw new Error(`${name}: a valid signature did not verify`);
  }
  const times = new Float64Array(ITERATIONS);
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) {
    const t0 = performance.now();
    const ok = check(signatures[i % signatures.length]);
    times[i] = (performance.now() - t0) * 1000;
    if (!ok) throw new Error(`${name}: a valid signature did not verify`);
  }
  const totalMs = performance.now() - started;
  const s = sorted(times);
  results[name] = { meanUs: mean(times), medianUs: median(times), p99Us: percentile(s, 99), perSecond: ITERATIONS / (totalMs / 1000) };
}

// A tampered payload must fail in both, or the timings would compare different work.
const tampered = payload.slice();
tampered[10] ^= 1;
if (verifySignature(sigwardKey, tampered, signatures[0]) || verify('sha256', tampered, nodeKey, signatures[0])) {
  throw new Error('a tampered payload verified');
}

const after = printMachine('end');
console.log(`\nP-256 signature check, ${ITERATIONS} iterations after ${WARMUP} warm-up (µs per check)`);
const names = Object.keys(results);
table([
  ['verifier', 'mean µs', 'median µs', 'p99 µs', 'checks/s'],
  ...names.map((n) => [n, fmt(results[n].meanUs), fmt(results[n].medianUs), fmt(results[n].p99Us), fmt(results[n].perSecond, 0)]),
]);
const ratio = results[names[0]].medianUs / results[names[1]].medianUs;
console.log(`\nsigward / node:crypto (medians): ${fmt(ratio, 1)}x`);
saveResult('crypto', { machine: { before, after }, build: SIGWARD_DIST, iterations: ITERATIONS, warmup: WARMUP, results, ratio });
