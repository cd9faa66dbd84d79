/**
 * Ways an unsigned image could try to slip past `sigward serve`, each met with an enforce policy
 * over the registry's `bypass/**` repositories: other container lists and image volumes, UPDATE
 * and the ephemeral-containers subresource, workload templates, a signed tag pinned to an
 * unsigned digest, other digest algorithms and other spellings of the same repository,
 * overlapping policies, and hostile signature manifests pushed under the unsigned image's `.sig`
 * tag (a copied signature, 1,001 layers, a 100 MB payload). Docker Hub spellings cannot be pushed
 * to a loopback registry; they are covered by the reference unit tests.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { getManifest, pushBlob, pushManifest } from '../support/images.js';
import { makeTempDir, sleep } from '../support/process.js';
import { countRequests, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview, ephemeralReview, review, updateReview, workload, type AdmissionReviewRequest } from '../support/review.js';
import { startServe, type AdmissionResponse, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const REPO = 'bypass/app';
const scratch = makeTempDir('bypass');
let registry: TestRegistry;
let signer: CosignKeyPair;
let other: CosignKeyPair;
let serve: ServeProcess;
/** --no-match allow, with globs spelled differently from the images: a glob that failed to match would admit. */
let lenient: ServeProcess;
/** S: signed by `signer`; U: unsigned; U1–U3: unsigned, each given a forged `.sig` tag. */
let S: TestImage, U: TestImage, copied: TestImage, layered: TestImage, huge: TestImage, overlap: TestImage;

const sigTag = (image: TestImage): string => `sha256-${image.digest.slice('sha256:'.length)}.sig`;

beforeAll(async () => {
  registry = await startDistributionRegistry({ tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  other = await generateKeyPair(scratch.dir, 2, 'other');
  [S, U, copied, layered, huge, overlap] = await Promise.all([
    pushImage(registry, REPO, 'signed', [signer]),
    pushImage(registry, REPO, 'unsigned'),
    pushImage(registry, REPO, 'copied-signature'),
    pushImage(registry, REPO, 'many-layers'),
    pushImage(registry, REPO, 'huge-payload'),
    pushImage(registry, 'overlap/app', 'v1', [signer]),
  ]);
  const release = [{ name: 'release', publicKeyFile: signer.publicKey }];
  serve = await startServe({
    policies: [
      { name: 'bypass', images: [`${registry.host}/bypass/**`], authorities: release },
      { name: 'overlap-release', images: [`${registry.host}/overlap/**`], authorities: release },
      { name: 'overlap-qa', images: [`${registry.host}/overlap/*`], authorities: [{ name: 'qa', publicKeyFile: other.publicKey }] },
    ],
    registries: [registry],
    noMatch: 'deny',
  });
  const port = registry.host.split(':')[1] ?? '';
  lenient = await startServe({
    policies: [
      { name: 'spelled-localhost', images: [`LOCALHOST:${port}/bypass/**`], authorities: release },
      { name: 'spelled-loopback', images: [`127.0.0.1:${port}/bypass/**`], authorities: release },
    ],
    registries: [registry],
    noMatch: 'allow',
  });
}, 180_000);

afterAll(async () => {
  await Promise.all([serve?.stop(), lenient?.stop()]);
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

function expectRefused(response: AdmissionResponse, request: AdmissionReviewRequest, parts: readonly (string | RegExp)[]): void {
  expect(response).toMatchObject({ uid: request.request.uid, allowed: false, status: { code: 403 } });
  for (const part of parts) {
    if (typeof part === 'string') expect(response.status?.message).toContain(part);
    else expect(response.status?.message).toMatch(part);
  }
}

async function refused(request: AdmissionReviewRequest, parts: readonly (string | RegExp)[]): Promise<AdmissionResponse> {
  const response = await serve.admit('/validate', request);
  expectRefused(response, request, parts);
  return response;
}

/** Whether `count` becomes positive within a second (the registry logs as its answer leaves). */
async function logged(count: () => number): Promise<boolean> {
  for (let i = 0; i < 20 && count() === 0; i++) await sleep(50);
  return count() > 0;
}

/**
 * Waits until the registry's log holds every request made so far: asks for a tag nobody has and
 * waits for that request's line. The log is written in order, so an absence read after it is an
 * absence, not a line still to come.
 */
async function logCaughtUp(): Promise<void> {
  const marker = `log-marker-${randomBytes(6).toString('hex')}`;
  await getManifest(registry, REPO, marker);
  if (!(await logged(() => countRequests(registry.logFile, new RegExp(`/manifests/${marker}$`))))) {
    throw new Error(`the registry never logged ${marker}`);
  }
}

describe('the control: a pod running S', () => {
  it('is admitted (so every refusal below is about U, not the setup)', async () => {
    const request = createReview('Pod', S.reference);
    expect(await serve.admit('/validate', request)).toMatchObject({ uid: request.request.uid, allowed: true });
  });
});

describe('when U hides in another part of the pod', () => {
  it('refuses U in an init container', async () => {
    await refused(createReview('Pod', { containers: [S.reference], initContainers: [U.reference] }), ['spec.initContainers[0].image', U.digest, 'NO_SIGNATURES']);
  });

  it('refuses U added as an ephemeral container (pods/ephemeralcontainers)', async () => {
    await refused(ephemeralReview(S.reference, U.reference), ['spec.ephemeralContainers[0].image', U.digest]);
  });

  it('refuses U mounted as an OCI image volume', async () => {
    const pod = workload('Pod', S.reference);
    const spec = pod.spec as Record<string, unknown>;
    const withVolume = { ...pod, spec: { ...spec, volumes: [{ name: 'data', image: { reference: U.reference, pullPolicy: 'IfNotPresent' } }] } };
    await refused(review({ kind: 'Pod', object: withVolume }), ['spec.volumes[0].image.reference', U.digest]);
  });

  it('refuses a pod UPDATE that swaps S for U', async () => {
    await refused(updateReview('Pod', S.reference, U.reference), ['spec.containers[0].image', U.digest]);
  });

  it.each(['Job', 'CronJob'] as const)('refuses U in a %s template', async (kind) => {
    await refused(createReview(kind, U.reference), [U.digest, 'NO_SIGNATURES']);
  });
});

describe('when the reference is spelled to mislead', () => {
  it("refuses S's tag pinned to U's digest: the digest decides", async () => {
    await refused(createReview('Pod', `${S.repository}:signed@${U.digest}`), [U.digest, 'NO_SIGNATURES']);
  });

  it('refuses a sha512 digest', async () => {
    await refused(createReview('Pod', `${S.repository}@sha512:${'ab'.repeat(64)}`), [/DIGEST_UNSUPPORTED|REFERENCE_INVALID/]);
  });

  it.each([
    ['an upper-case repository path', (host: string) => `${host}/BYPASS/app:unsigned`],
    ['a dot-dot path segment', (host: string) => `${host}/bypass/../app:unsigned`],
    ['an empty path segment', (host: string) => `${host}//bypass/app:unsigned`],
  ])('refuses %s as an invalid reference', async (_what, spell) => {
    await refused(createReview('Pod', spell(registry.host)), [/REFERENCE_INVALID/]);
  });

  it('refuses localhost:PORT, which a policy for 127.0.0.1:PORT does not cover (--no-match deny)', async () => {
    const port = registry.host.split(':')[1] ?? '';
    const image = `localhost:${port}/${REPO}@${U.digest}`;
    await refused(createReview('Pod', image), [image, 'no policy matches the image (--no-match deny)']);
  });
});

describe('when the glob and the image spell the same registry differently (--no-match allow)', () => {
  const port = (): string => registry.host.split(':')[1] ?? '';

  it('admits an image no glob matches (the server is lenient, so a missed match would admit)', async () => {
    const request = createReview('Pod', `localhost:${port()}/elsewhere/app@${U.digest}`);
    expect(await lenient.admit('/validate', request)).toMatchObject({ uid: request.request.uid, allowed: true });
  });

  it.each([
    ['localhost:PORT against the glob LOCALHOST:PORT', () => `localhost:${port()}/${REPO}:unsigned`, 'ClusterImagePolicy spelled-localhost'],
    ['LocalHost:PORT against the glob LOCALHOST:PORT', () => `LocalHost:${port()}/${REPO}@${U.digest}`, 'ClusterImagePolicy spelled-localhost'],
    // Six digits are not a port sigward accepts: the reference is refused as invalid, not unmatched.
    ['127.0.0.1:0PORT (a leading zero) against the glob 127.0.0.1:PORT', () => `127.0.0.1:0${port()}/${REPO}:unsigned`, /REFERENCE_INVALID|ClusterImagePolicy spelled-loopback/],
  ])('refuses U spelled %s', async (_what, image, reason) => {
    const request = createReview('Pod', image());
    expectRefused(await lenient.admit('/validate', request), request, [reason]);
  });
});

describe('when two policies match and only one passes', () => {
  it('refuses, naming the failing policy', async () => {
    const response = await refused(createReview('Pod', overlap.reference), ['ClusterImagePolicy overlap-qa (enforce)']);
    expect(response.status?.message).not.toContain('overlap-release (enforce)');
  });
});

describe("when U's .sig tag holds a forged signature manifest", () => {
  it("refuses S's valid signature copied to U's tag with CLAIM_MISMATCH", async () => {
    const signature = await getManifest(registry, REPO, sigTag(S));
    if (signature === undefined) throw new Error(`no signature manifest at ${sigTag(S)}`);
    await pushManifest(registry, REPO, sigTag(copied), signature.bytes, signature.mediaType);
    await refused(createReview('Pod', copied.reference), [copied.digest, 'CLAIM_MISMATCH']);
  });

  /** S's signature manifest with `layers` made from its one layer by `mutate`. */
  async function forgedManifest(layers: (layer: Record<string, unknown>) => Record<string, unknown>[]): Promise<{ bytes: Buffer; mediaType: string }> {
    const signature = await getManifest(registry, REPO, sigTag(S));
    if (signature === undefined) throw new Error(`no signature manifest at ${sigTag(S)}`);
    const doc = JSON.parse(Buffer.from(signature.bytes).toString('utf8')) as { layers: Record<string, unknown>[] };
    const layer = doc.layers[0];
    if (layer === undefined) throw new Error('signature manifest without layers');
    return { bytes: Buffer.from(JSON.stringify({ ...doc, layers: layers(layer) })), mediaType: signature.mediaType };
  }

  it('refuses 1,001 signature layers with TOO_MANY_SIGNATURES, quickly, fetching no blob', async () => {
    const payload = await pushBlob(registry, REPO, randomBytes(200));
    const forged = await forgedManifest((layer) => Array.from({ length: 1001 }, () => ({ ...layer, digest: payload, size: 200 })));
    await pushManifest(registry, REPO, sigTag(layered), forged.bytes, forged.mediaType);
    const started = performance.now();
    await refused(createReview('Pod', layered.reference), [layered.digest, 'TOO_MANY_SIGNATURES']);
    expect(performance.now() - started).toBeLessThan(2000);
    await logCaughtUp();
    expect(countRequests(registry.logFile, new RegExp(`^GET /v2/${REPO}/blobs/${payload}$`))).toBe(0);
    // The same pattern sees the payload fetch of S's real signature: the zero above could have moved.
    const signature = await forgedManifest((layer) => [layer]);
    const sPayload = String((JSON.parse(signature.bytes.toString('utf8')) as { layers: { digest: string }[] }).layers[0]?.digest);
    expect(countRequests(registry.logFile, new RegExp(`^GET /v2/${REPO}/blobs/${sPayload}$`))).toBeGreaterThan(0);
  });

  it('refuses a layer declaring a 100 MB payload without downloading it', async () => {
    const payload = await pushBlob(registry, REPO, randomBytes(300));
    const forged = await forgedManifest((layer) => [{ ...layer, digest: payload, size: 100_000_000 }]);
    await pushManifest(registry, REPO, sigTag(huge), forged.bytes, forged.mediaType);
    await refused(createReview('Pod', huge.reference), [huge.digest, /PAYLOAD_TOO_LARGE|BLOB_TOO_LARGE/]);
    await logCaughtUp();
    expect(countRequests(registry.logFile, new RegExp(`^GET /v2/${REPO}/blobs/${payload}$`))).toBe(0);
    // The review did reach the registry for this image: it read the .sig manifest that names the payload.
    expect(countRequests(registry.logFile, new RegExp(`^GET /v2/${REPO}/manifests/${sigTag(huge)}$`))).toBeGreaterThan(0);
  });
});
