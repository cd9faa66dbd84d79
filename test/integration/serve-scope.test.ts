/**
 * Scope and lifecycle through running `sigward serve` processes (docs/design.md §3 "Scope",
 * "Lifecycle"), against the real distribution registry with images signed by the real cosign.
 *
 * Scope: an image no policy covers gets the `--no-match` answer from `/validate` and is left as
 * written by `/mutate`, with no network I/O at all. A TCP listener that counts connections
 * stands for a registry no policy names (`other/**` on it), with a policy on another path of the
 * same host (`covered/**`) as the positive control that sigward does connect when it should.
 * Every `--no-match` value and both endpoints are tried.
 *
 * Lifecycle: on UPDATE an unchanged unsigned image is not judged or pinned; removing the
 * finalizer of a terminating pod goes through; on `pods/ephemeralcontainers` only the debug
 * container is examined and patched.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview, ephemeralReview, review, workload, type AdmissionReviewRequest, type KubeObject } from '../support/review.js';
import { decodePatch, startServe, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const scratch = makeTempDir('serve-scope');
let registry: TestRegistry;
let signer: CosignKeyPair;
let signed: TestImage;
let unsigned: TestImage;
let counter: { server: Server; sockets: Set<Socket>; connections: number; host: string };
const serves: Record<'deny' | 'allow' | 'warn', ServeProcess> = {} as Record<'deny' | 'allow' | 'warn', ServeProcess>;

/** Accepts connections, counts them, and never answers. */
async function startCounter(): Promise<typeof counter> {
  const sockets = new Set<Socket>();
  const state = { connections: 0 };
  const server = createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    server,
    sockets,
    host: `127.0.0.1:${port}`,
    get connections() { return state.connections; },
  };
}

beforeAll(async () => {
  [registry, counter] = await Promise.all([startDistributionRegistry({ tls: true }), startCounter()]);
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  [signed, unsigned] = await Promise.all([
    pushImage(registry, 'scope/app', 'signed', [signer]),
    pushImage(registry, 'scope/app', 'unsigned'),
  ]);
  const release = [{ name: 'release', publicKeyFile: signer.publicKey }];
  const policies = [
    { name: 'scope', images: [`${registry.host}/scope/**`], authorities: release },
    { name: 'covered', images: [`${counter.host}/covered/**`], authorities: release },
    // A registry wildcard: the registries it reaches are named by no policy.
    { name: 'wild', images: ['127.0.0.*/wild/**'], authorities: release },
  ];
  const started = await Promise.all((['deny', 'allow', 'warn'] as const).map((noMatch) =>
    startServe({ policies, registries: [registry], noMatch, insecureRegistries: [counter.host], webhookTimeoutSeconds: 2, registryTimeoutSeconds: 1 })));
  [serves.deny, serves.allow, serves.warn] = started as [ServeProcess, ServeProcess, ServeProcess];
}, 120_000);

afterAll(async () => {
  await Promise.all(Object.values(serves).map((serve) => serve.stop()));
  await registry?.stop();
  for (const socket of counter?.sockets ?? []) socket.destroy();
  await new Promise((resolve) => counter?.server.close(resolve));
  await closeRegistryAgents();
  scratch.remove();
});

describe('an image no policy covers', () => {
  const uncovered = (): string => `${counter.host}/other/app:v1`;

  it('is reached when a policy covers it (the positive control)', async () => {
    const before = counter.connections;
    const response = await serves.deny.admit('/validate', createReview('Pod', `${counter.host}/covered/app:v1`));
    expect(response.allowed).toBe(false);
    expect(counter.connections).toBeGreaterThan(before);
  });

  it.each([
    ['deny', false, undefined],
    ['allow', true, undefined],
    ['warn', true, 'no policy matches'],
  ] as const)('under --no-match %s: /validate answers it, /mutate leaves it as written, no connection is made', async (noMatch, allowed, warning) => {
    const serve = serves[noMatch];
    const before = counter.connections;
    const pod = createReview('Pod', { containers: [uncovered(), signed.reference] });
    const validated = await serve.admit('/validate', pod);
    const mutatedAnswer = await serve.admit('/mutate', pod);
    expect(validated.allowed).toBe(allowed);
    if (!allowed) expect(validated.status?.message).toContain(`image ${uncovered()}`);
    if (warning !== undefined) expect(validated.warnings?.join(' ')).toContain(warning);
    // The covered image is pinned; the uncovered one is not touched.
    expect(mutatedAnswer.allowed).toBe(true);
    expect(decodePatch(mutatedAnswer)).toEqual([{ op: 'replace', path: '/spec/containers/1/image', value: `${signed.reference}@${signed.digest}` }]);
    expect(counter.connections).toBe(before);
  });

  it('labels registry metrics with registries some policy names, and every other one as other', async () => {
    // Matched by the wildcard policy and reached, but named by none: a host a pod spec made up.
    const madeUp = `127.0.0.2:${counter.host.split(':')[1]}`;
    await serves.deny.admit('/validate', createReview('Pod', `${madeUp}/wild/app:v1`));
    const metrics = await serves.deny.metrics();
    const registries = new Set([...metrics.matchAll(/sigward_registry_requests_total\{registry="([^"]+)"/g)].map((m) => m[1]));
    expect(registries).toEqual(new Set([registry.host, counter.host, 'other']));
  });
});

/** An UPDATE of a pod from `old` to `next`, as the API server sends it. */
function podUpdate(old: KubeObject, next: KubeObject): AdmissionReviewRequest {
  return review({ kind: 'Pod', operation: 'UPDATE', object: next, oldObject: old });
}

describe('an UPDATE of a pod that runs an unsigned image admitted before the policy', () => {
  const running = (): KubeObject => workload('Pod', unsigned.reference);

  it('is admitted and not rewritten when only its labels change', async () => {
    const old = running();
    const next = { ...old, metadata: { ...(old.metadata as KubeObject), labels: { app: 'web', tier: 'front' } } };
    const request = podUpdate(old, next);
    expect((await serves.deny.admit('/validate', request)).allowed).toBe(true);
    const mutatedAnswer = await serves.deny.admit('/mutate', request);
    expect({ allowed: mutatedAnswer.allowed, patch: decodePatch(mutatedAnswer) }).toEqual({ allowed: true, patch: undefined });
  });

  it('lets its finalizer be removed once it is terminating', async () => {
    const base = running();
    const metadata = { ...(base.metadata as KubeObject), deletionTimestamp: '2026-12-04T10:00:00Z' };
    const old = { ...base, metadata: { ...metadata, finalizers: ['example.com/hold'] } };
    const next = { ...base, metadata };
    expect((await serves.deny.admit('/validate', podUpdate(old, next))).allowed).toBe(true);
  });

  it('is denied once the UPDATE changes the image to another unsigned one', async () => {
    const old = workload('Pod', signed.reference);
    const response = await serves.deny.admit('/validate', podUpdate(old, running()));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain('spec.containers[0].image');
    expect(response.status?.message).toContain('NO_SIGNATURES');
  });
});

describe('kubectl debug on a pod that runs an unsigned image admitted before the policy', () => {
  it('admits a signed debug container and pins only it', async () => {
    const request = ephemeralReview(unsigned.reference, signed.reference);
    expect((await serves.deny.admit('/validate', request)).allowed).toBe(true);
    expect(decodePatch(await serves.deny.admit('/mutate', request))).toEqual([
      { op: 'replace', path: '/spec/ephemeralContainers/0/image', value: `${signed.reference}@${signed.digest}` },
    ]);
  });

  it('denies a debug container that reuses the unsigned tag the pod runs', async () => {
    const response = await serves.deny.admit('/validate', ephemeralReview(unsigned.reference, unsigned.reference));
    expect(response.allowed).toBe(false);
    expect(response.status?.message).toContain('spec.ephemeralContainers[0].image');
  });
});
