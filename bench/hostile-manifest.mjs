/**
 * What one tenant's hostile signature manifest costs everyone else. A crane registry holds, at
 * an image's `.sig` tag, a manifest of LAYERS simple-signing layers that all name one payload of
 * about 1 MiB and carry distinct forged DER signatures; a ClusterImagePolicy trusts a P-384 key
 * for that repository. While sigward serve reviews a pod running it, a bystander (a cosign-signed
 * image whose verdict is cached) and /healthz are probed back to back. Reported: the attack
 * review's time and answer, the bystanders' p50/p99/max, the process's peak RSS (VmHWM), and the
 * CPU a replay of the review costs once its failed verdict expired (10 s).
 *
 *   node bench/hostile-manifest.mjs [--layers 1000] [--rounds 2]
 * Run it against another build with SIGWARD_BENCH_DIST=DIR (e.g. an older commit's dist/).
 * Targets (issue "Hardening II"): attack answered inside the 10 s webhook timeout; bystander
 * max <= 250 ms; peak RSS < 400 MB; replay CPU far below the first review's.
 */
import { generateKeyPairSync, createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import {
  cosignKeyPair, cosignSign, cpuMs, fmt, option, percentile, printMachine, pushRandomImage, reviewTemplate, saveResult, scratch, sleep,
  sorted, startCraneRegistry, startSigwardServe, table,
} from './lib.mjs';

const LAYERS = option('layers', 1000);
const ROUNDS = option('rounds', 2);
if (!(LAYERS >= 1 && LAYERS <= 1000) || !(ROUNDS >= 1 && ROUNDS <= 10)) throw new Error('bad --layers (1..1000) or --rounds (1..10)');
const PAYLOAD_BYTES = 1024 * 1024 - 4096;
const FAILURE_TTL_MS = 10_000;

const sha256 = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

async function put(host, path, body, contentType) {
  const res = await fetch(`http://${host}${path}`, { method: 'PUT', headers: { 'content-type': contentType }, body });
  await res.body?.cancel();
  if (res.status !== 201) throw new Error(`PUT ${path}: HTTP ${res.status}`);
}

async function pushBlob(host, repo, bytes) {
  const start = await fetch(`http://${host}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await start.body?.cancel();
  const location = new URL(start.headers.get('location'), `http://${host}`);
  location.searchParams.set('digest', sha256(bytes));
  await put(host, `${location.pathname}${location.search}`, bytes, 'application/octet-stream');
  return sha256(bytes);
}

function forgedSignature(i) {
  const r = Buffer.alloc(48, 0x31);
  r.writeUInt32BE(i + 1, 44);
  const body = Buffer.concat([Buffer.from([0x02, 48]), r, Buffer.from([0x02, 48]), Buffer.alloc(48, 0x42)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64');
}

async function pushAttack(dir, host, repo, layers) {
  const digest = await pushRandomImage(dir, host, repo, 'v1');
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': `${host}/${repo}` }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' },
    optional: { padding: 'x'.repeat(PAYLOAD_BYTES) },
  }));
  const config = Buffer.from('{}');
  const [payloadDigest, configDigest] = [await pushBlob(host, repo, payload), await pushBlob(host, repo, config)];
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: Array.from({ length: layers }, (_, i) => ({
      mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json',
      digest: payloadDigest,
      size: payload.length,
      annotations: { 'dev.cosignproject.cosign/signature': forgedSignature(i) },
    })),
  };
  await put(host, `/v2/${repo}/manifests/sha256-${digest.slice(7)}.sig`, JSON.stringify(manifest), manifest.mediaType);
  return `${host}/${repo}:v1`;
}

function policy(name, glob, pem) {
  const key = pem.trim().split('\n').map((line) => `          ${line}`).join('\n');
  return `apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: ${name} }
spec:
  images: [ { glob: "${glob}" } ]
  authorities:
    - name: ${name}-key
      key:
        data: |
${key}
`;
}

function peakRssMb(pid) {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) / 1024;
}

const before = printMachine('start');
const dir = scratch('hostile');
const registry = await startCraneRegistry();
const agent = new Agent({ connect: { rejectUnauthorized: false }, connections: 8 });
let serve;
try {
  const signer = await cosignKeyPair(dir);
  const bystanderDigest = await pushRandomImage(dir, registry.host, 'bystander/app', 'v1');
  await cosignSign(`${registry.host}/bystander/app@${bystanderDigest}`, signer.keyFile);
  const tenantPem = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' });
  const attacks = [];
  for (let round = 0; round < ROUNDS; round++) attacks.push(await pushAttack(dir, registry.host, `tenant/attack-${round}`, LAYERS));
  const policyFile = join(dir, 'policies.yaml');
  writeFileSync(policyFile, `${policy('bystander', `${registry.host}/bystander/**`, signer.pub)}---\n${policy('tenant', `${registry.host}/tenant/**`, tenantPem)}`);
  serve = await startSigwardServe({ policyFile, insecureRegistry: registry.host });
  const pid = serve.server.pid;
  const post = async (image) => {
    const res = await request(`${serve.origin}/validate`, {
      method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: reviewTemplate(image)(crypto.randomUUID()),
    });
    return (await res.body.json()).response;
  };
  const bystander = `${registry.host}/bystander/app:v1`;
  if (!(await post(bystander)).allowed) throw new Error('the bystander image is not admitted');

  const rows = [['round', 'attack ms', 'answer', 'bystander p50 ms', 'p99 ms', 'max ms', 'probes', 'attack CPU ms', 'replay CPU ms', 'peak RSS MB']];
  const results = [];
  for (const [round, image] of attacks.entries()) {
    const cpu0 = cpuMs(pid);
    const t0 = performance.now();
    let done = false;
    const attack = post(image).finally(() => { done = true; });
    const waits = [];
    while (!done) {
      const t = performance.now();
      await Promise.all([request(`${serve.origin}/healthz`, { dispatcher: agent }).then((r) => r.body.dump()), post(bystander)]);
      waits.push(performance.now() - t);
      await sleep(20);
    }
    const answer = await attack;
    const attackMs = performance.now() - t0;
    const attackCpu = cpuMs(pid) - cpu0;
    await sleep(FAILURE_TTL_MS + 500);
    const cpu1 = cpuMs(pid);
    await post(image);
    const replayCpu = cpuMs(pid) - cpu1;
    const s = sorted(waits);
    const code = /\b([A-Z_]{6,})\b/.exec(answer.status?.message ?? '')?.[1] ?? (answer.allowed ? 'allowed' : '?');
    const result = {
      round, attackMs, allowed: answer.allowed, code, bystanderP50: percentile(s, 50), bystanderP99: percentile(s, 99),
      bystanderMax: s.at(-1) ?? NaN, probes: waits.length, attackCpu, replayCpu, peakRssMb: peakRssMb(pid),
    };
    results.push(result);
    rows.push([round, fmt(attackMs, 0), `${answer.allowed ? 'allow' : 'deny'} ${code}`, fmt(result.bystanderP50), fmt(result.bystanderP99),
      fmt(result.bystanderMax), waits.length, fmt(attackCpu, 0), fmt(replayCpu, 0), fmt(result.peakRssMb, 0)]);
  }
  console.log(`\n${LAYERS} forged layers over one ${PAYLOAD_BYTES} byte payload, P-384 key policy, ${serve.command.split(' ')[1]}`);
  table(rows);
  saveResult('hostile-manifest', { layers: LAYERS, machine: { before, after: printMachine('end') }, results });
} finally {
  await serve?.server.stop();
  await registry.stop();
  await agent.close();
}
