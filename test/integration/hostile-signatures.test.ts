/**
 * A tenant who can push to its own signature repository attacks every other tenant through
 * `sigward serve` (docs/design.md §4 "Bounded work"): a `.sig` manifest of 1000 simple-signing layers
 * over one 1 MiB payload, each with its own forged DER signature, under P-256 and P-384 key
 * policies; and the same at the count sigward still checks (64 distinct signatures). Pushed to
 * the real distribution registry, reviewed through a running serve. The attack review must be
 * denied with a reason inside the webhook timeout; a cached bystander review and `/healthz` must
 * keep answering while it runs; the process must stay far under the chart's memory limit; and
 * replaying the review once its verdict has expired must cost no burst of CPU.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { SIGNATURE_LIMITS } from '../../src/cosign/index.js';
import { CACHE_SETTINGS } from '../../src/main.js';
import { generateKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { pushBlob, pushManifest, pushRandomImage, sha256Digest } from '../support/images.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview } from '../support/review.js';
import { startServe, type AdmissionResponse, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const WEBHOOK_TIMEOUT_SECONDS = 10;
/** What a bystander may wait while an attack runs (the bound). */
const BYSTANDER_BUDGET_MS = 250;
/** Peak resident memory allowed for the whole serve process (the chart's limit is 512 Mi). */
const PEAK_RSS_BYTES = 400 * 1024 * 1024;
const PAYLOAD_BYTES = 1024 * 1024 - 4096;

const scratch = makeTempDir('hostile-signatures');
let registry: TestRegistry;
let serve: ServeProcess;
let bystander: TestImage;
const attacks: Record<string, string> = {};
/** CPU the first review of each attack cost, the positive control for the replay. */
const firstCost: Record<string, number> = {};

/** A PEM public key of a key pair nobody keeps: the policy trusts it, no signature is by it. */
function publicKeyFile(curve: 'prime256v1' | 'secp384r1'): string {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const file = join(scratch.dir, `${curve}.pub`);
  writeFileSync(file, publicKey.export({ type: 'spki', format: 'pem' }));
  return file;
}

/** A well-formed DER ECDSA signature of the curve's size that no key made. */
function forgedSignature(i: number, size: number): string {
  const r = Buffer.alloc(size, 0x31);
  r.writeUInt32BE(i + 1, size - 4);
  const s = Buffer.alloc(size, 0x42);
  const body = Buffer.concat([Buffer.from([0x02, size]), r, Buffer.from([0x02, size]), s]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('base64');
}

/**
 * Pushes an image to `repo` and, at its `.sig` tag, a manifest of `layers` simple-signing
 * layers that all name one payload of about 1 MiB (a real simple-signing document padded out)
 * and carry distinct forged signatures. Returns the image's tag reference.
 */
async function pushAttack(repo: string, layers: number, signatureSize: number): Promise<string> {
  const image = await pushRandomImage(registry, repo, 'v1');
  const padding = 'x'.repeat(PAYLOAD_BYTES);
  const payload = Buffer.from(JSON.stringify({
    critical: { identity: { 'docker-reference': `${registry.host}/${repo}` }, image: { 'docker-manifest-digest': image.digest }, type: 'cosign container image signature' },
    optional: { padding },
  }));
  const config = Buffer.from('{}');
  const [payloadDigest, configDigest] = await Promise.all([pushBlob(registry, repo, payload), pushBlob(registry, repo, config)]);
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.ociManifest,
    config: { mediaType: MEDIA_TYPE.ociConfig, digest: configDigest, size: config.length },
    layers: Array.from({ length: layers }, (_, i) => ({
      mediaType: MEDIA_TYPE.simpleSigning,
      digest: payloadDigest,
      size: payload.length,
      annotations: { [ANNOTATION.signature]: forgedSignature(i, signatureSize) },
    })),
  };
  await pushManifest(registry, repo, `sha256-${image.digest.slice('sha256:'.length)}.sig`, Buffer.from(JSON.stringify(manifest)), MEDIA_TYPE.ociManifest);
  expect(sha256Digest(payload)).toBe(payloadDigest);
  return `${registry.host}/${repo}:v1`;
}

/** CPU time (user + system) the serve process has used, in milliseconds. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // Fields 14 and 15 of stat (utime, stime), in clock ticks of 10 ms on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

function peakRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1]) * 1024;
}

/**
 * Runs the attack review and, while it is under way, a bystander review (answered from cache)
 * and `/healthz` back to back; returns the attack's answer and time and the bystanders' worst.
 */
async function attackWithBystanders(
  image: string,
): Promise<{ response: AdmissionResponse; elapsedMs: number; worstBystanderMs: number; bystanders: number; cpuMs: number }> {
  let done = false;
  const cpuBefore = cpuMs(serve.pid);
  const started = performance.now();
  const attack = serve.admit('/validate', createReview('Pod', image)).finally(() => { done = true; });
  let worst = 0;
  let bystanders = 0;
  while (!done) {
    const t = performance.now();
    const [health, cached] = await Promise.all([serve.get('/healthz'), serve.admit('/validate', createReview('Pod', bystander.reference))]);
    worst = Math.max(worst, performance.now() - t);
    bystanders++;
    expect({ health: health.status, allowed: cached.allowed }).toEqual({ health: 200, allowed: true });
    await sleep(20);
  }
  const response = await attack;
  return { response, elapsedMs: performance.now() - started, worstBystanderMs: worst, bystanders, cpuMs: cpuMs(serve.pid) - cpuBefore };
}

beforeAll(async () => {
  registry = await startDistributionRegistry({ tls: true });
  const signer = await generateKeyPair(scratch.dir, 2, 'bystander');
  const p256 = publicKeyFile('prime256v1');
  const p384 = publicKeyFile('secp384r1');
  bystander = await pushImage(registry, 'bystander/app', 'v1', [signer]);
  attacks.floodP384 = await pushAttack('tenant-p384/flood', 1000, 48);
  attacks.floodP256 = await pushAttack('tenant-p256/flood', 1000, 32);
  attacks.capP384 = await pushAttack('tenant-p384/at-cap', SIGNATURE_LIMITS.candidates, 48);
  attacks.capP256 = await pushAttack('tenant-p256/at-cap', SIGNATURE_LIMITS.candidates, 32);
  serve = await startServe({
    policies: [
      { name: 'bystander', images: [`${registry.host}/bystander/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] },
      { name: 'tenant-p384', images: [`${registry.host}/tenant-p384/**`], authorities: [{ name: 'tenant', publicKeyFile: p384 }] },
      { name: 'tenant-p256', images: [`${registry.host}/tenant-p256/**`], authorities: [{ name: 'tenant', publicKeyFile: p256 }] },
    ],
    registries: [registry],
    webhookTimeoutSeconds: WEBHOOK_TIMEOUT_SECONDS,
  });
  // The bystander's verdict is cached before any attack: its reviews take the fast path.
  expect((await serve.admit('/validate', createReview('Pod', bystander.reference))).allowed).toBe(true);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

describe.each([
  ['P-384', 'floodP384'],
  ['P-256', 'floodP256'],
])('a .sig tag of 1000 forged layers over one 1 MiB payload, under a %s key', (_curve, name) => {
  let result: Awaited<ReturnType<typeof attackWithBystanders>>;
  beforeAll(async () => {
    result = await attackWithBystanders(attacks[name]!);
  }, 60_000);

  it('is denied with TOO_MANY_SIGNATURES inside the webhook timeout', () => {
    expect(result.response.allowed).toBe(false);
    expect(result.response.status?.message).toContain('TOO_MANY_SIGNATURES');
    expect(result.response.status?.message).toContain(`1000 distinct signatures, more than the ${SIGNATURE_LIMITS.candidates}`);
    expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
  });

  it(`keeps the bystander and /healthz under ${BYSTANDER_BUDGET_MS} ms`, () => {
    expect(result.worstBystanderMs).toBeLessThan(BYSTANDER_BUDGET_MS);
  });
});

describe.each([
  ['P-384', 'capP384'],
  ['P-256', 'capP256'],
])(`a .sig tag of ${SIGNATURE_LIMITS.candidates} forged signatures (all checked), under a %s key`, (_curve, name) => {
  let result: Awaited<ReturnType<typeof attackWithBystanders>>;
  beforeAll(async () => {
    result = await attackWithBystanders(attacks[name]!);
    firstCost[name] = result.cpuMs;
  }, 60_000);

  it('is denied with SIGNATURE_INVALID inside the webhook timeout', () => {
    expect(result.response.allowed).toBe(false);
    expect(result.response.status?.message).toContain('SIGNATURE_INVALID');
    expect(result.response.status?.message).toContain(`; and ${SIGNATURE_LIMITS.candidates - 3} more`);
    expect(result.elapsedMs).toBeLessThan(WEBHOOK_TIMEOUT_SECONDS * 1000);
  });

  it(`keeps the bystander and /healthz under ${BYSTANDER_BUDGET_MS} ms while the checks run`, () => {
    // The probe ran while the attack was under way, more than once: it measured something.
    expect(result.bystanders).toBeGreaterThan(1);
    expect(result.worstBystanderMs).toBeLessThan(BYSTANDER_BUDGET_MS);
  });
});

describe('after every attack', () => {
  it(`kept the process's peak resident memory under ${PEAK_RSS_BYTES / 1024 / 1024} MB`, () => {
    expect(peakRssBytes(serve.pid)).toBeLessThan(PEAK_RSS_BYTES);
  });

  it('answers a replay after the failed verdict expired without checking the signatures again', async () => {
    // The first review of this image made 64 P-384 checks over a 1 MiB payload (about a second of CPU).
    expect(firstCost.capP384).toBeGreaterThan(500);
    await sleep(CACHE_SETTINGS.failureTtlMs + 500);
    const before = cpuMs(serve.pid);
    const response = await serve.admit('/validate', createReview('Pod', attacks.capP384!));
    const spent = cpuMs(serve.pid) - before;
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain('SIGNATURE_INVALID');
    expect(spent).toBeLessThan(200);
  }, 30_000);
});
