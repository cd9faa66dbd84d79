/**
 * A burst of reviews for an image sigward has never seen (a rollout of 200 pods at once): the
 * registry must see one tag resolution and one signature lookup, however many reviews wait for
 * them (single-flight caches, docs/design.md §5), and every review must still get its own right answer.
 * Requests are counted in the real registry's access log, not at a mock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { sampleSum } from '../support/metrics.js';
import { startDelayProxy, type DelayProxy } from '../support/net.js';
import { makeTempDir, sleep } from '../support/process.js';
import { readRequests, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview, imagePointer } from '../support/review.js';
import { decodePatch, startServe, type AdmissionResponse, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const AUTH = { username: 'sigward-burst', password: 'serve-concurrency-a4c9' };
const BURST = 200;
const CACHE_METRIC = 'sigward_cache_requests_total';
const scratch = makeTempDir('serve-concurrency');
let registry: TestRegistry;
let signer: CosignKeyPair;
let serve: ServeProcess;
let proxy: DelayProxy;
/** How long the proxy holds each chunk the registry sends. */
const ANSWER_DELAY_MS = 150;
/** The image as sigward is asked about it: through the proxy. */
const viaProxy = (image: TestImage): string => image.reference.replace(registry.host, proxy.host);

beforeAll(async () => {
  registry = await startDistributionRegistry({ auth: AUTH, tls: true });
  // sigward reaches the registry through a proxy that holds each answer for ANSWER_DELAY_MS: one
  // lookup is then certainly still under way while the burst's reviews are read, whatever the
  // machine's load, so the reviews that wait on it are seen waiting.
  proxy = await startDelayProxy(registry.host, ANSWER_DELAY_MS);
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  // A generous webhook timeout: this file is about how often the registry is asked, not speed.
  serve = await startServe({
    policies: [{ name: 'burst', images: [`${proxy.host}/burst/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] }],
    // The registry's login and CA, for the proxy's address (its certificate names 127.0.0.1).
    registries: [{ ...registry, host: proxy.host }],
    webhookTimeoutSeconds: 30,
  });
  // One review first, of another repository, so sigward has met the registry's Basic challenge:
  // from then on it sends credentials at once, and each lookup is one line in the access log.
  const warm = await pushImage(registry, 'burst/warm-up', 'v1', [signer]);
  const response = await serve.admit('/validate', createReview('Pod', viaProxy(warm)));
  if (!response.allowed) throw new Error(`warm-up review was not admitted: ${response.status?.message ?? ''}`);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await proxy?.close();
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

/** How many requests the registry has logged, once its log has stopped growing (a request's line
 * is written as its answer leaves, so the last push may still be on its way to the file). */
async function settledRequestCount(): Promise<number> {
  let count = readRequests(registry.logFile).length;
  for (let i = 0; i < 50; i++) {
    await sleep(150);
    const now = readRequests(registry.logFile).length;
    if (now === count) return count;
    count = now;
  }
  throw new Error('the registry log kept growing: something else is using the test registry');
}

/** `METHOD URI` and status of each request under /v2/<repo>/ logged after the first `from`. */
function repoRequests(repo: string, from: number): { line: string; status: number | undefined }[] {
  return readRequests(registry.logFile)
    .slice(from)
    .filter((r) => r.uri.startsWith(`/v2/${repo}/`))
    .map((r) => ({ line: `${r.method} ${r.uri}`, status: r.status }));
}

interface Lookups {
  readonly tagResolutions: number;
  readonly signatureFetches: number;
  /** Requests made more than once. */
  readonly repeated: readonly string[];
}

function lookups(image: TestImage, repo: string, from: number): Lookups {
  const lines = repoRequests(repo, from).map((r) => r.line);
  const sigTag = `sha256-${image.digest.slice('sha256:'.length)}.sig`;
  return {
    tagResolutions: lines.filter((l) => l === `HEAD /v2/${repo}/manifests/${image.tag}` || l === `GET /v2/${repo}/manifests/${image.tag}`).length,
    signatureFetches: lines.filter((l) => l === `GET /v2/${repo}/manifests/${sigTag}`).length,
    repeated: [...new Set(lines.filter((l, i) => lines.indexOf(l) !== i))],
  };
}

interface Burst {
  readonly uids: readonly string[];
  readonly responses: readonly AdmissionResponse[];
  /** Registry log entries before the burst: what follows is sigward's doing. */
  readonly logMark: number;
  /** Reviews that found a lookup for their key already under way and waited for it. */
  readonly coalesced: number;
}

/**
 * BURST reviews of a pod running `image`, each with its own uid, completed at one instant: every
 * body but its last byte is sent first, then all the last bytes together, so the server reads
 * the reviews side by side rather than one connection setup apart.
 */
async function burst(path: '/validate' | '/mutate', image: TestImage): Promise<Burst> {
  const logMark = await settledRequestCount();
  const before = await serve.metrics();
  const reviews = Array.from({ length: BURST }, () => createReview('Pod', viaProxy(image)));
  let open: () => void = () => undefined;
  const release = new Promise<void>((resolve) => { open = resolve; });
  const held = reviews.map((r) => serve.admitHeld(path, r, release));
  await Promise.all(held.map((h) => h.started));
  await sleep(500);
  open();
  const responses = await Promise.all(held.map((h) => h.response));
  await settledRequestCount();
  const coalesced = sampleSum(await serve.metrics(), CACHE_METRIC, { result: 'coalesced' }) - sampleSum(before, CACHE_METRIC, { result: 'coalesced' });
  return { uids: reviews.map((r) => r.request.uid), responses, logMark, coalesced };
}

describe('when 200 reviews for one never-seen signed image arrive at once', () => {
  let image: TestImage;
  let result: Burst;

  beforeAll(async () => {
    image = await pushImage(registry, 'burst/signed', 'v1', [signer]);
    result = await burst('/validate', image);
  }, 120_000);

  it('admits every one of them under its own uid', () => {
    expect(result.responses.map((r) => ({ uid: r.uid, allowed: r.allowed, status: r.status }))).toEqual(
      result.uids.map((uid) => ({ uid, allowed: true, status: undefined })),
    );
  });

  it('really had reviews waiting on one another (single-flight was exercised)', () => {
    expect(result.coalesced).toBeGreaterThanOrEqual(BURST / 2);
  });

  it('resolves the tag once and fetches the signature manifest once', () => {
    expect(lookups(image, 'burst/signed', result.logMark)).toEqual({ tagResolutions: 1, signatureFetches: 1, repeated: [] });
  });

  it('got an answer from the registry for both lookups (the log is read, not empty)', () => {
    const statuses = repoRequests('burst/signed', result.logMark).filter((r) => /manifests\/(v1|sha256-[a-f0-9]{64}\.sig)$/.test(r.line)).map((r) => r.status);
    expect(statuses).toEqual([200, 200]);
  });
});

describe('when 200 reviews for one never-seen unsigned image arrive at once', () => {
  let image: TestImage;
  let result: Burst;

  beforeAll(async () => {
    image = await pushImage(registry, 'burst/unsigned', 'v1');
    result = await burst('/validate', image);
  }, 120_000);

  it('denies every one of them under its own uid, naming the digest', () => {
    expect(result.responses.map((r) => ({ uid: r.uid, allowed: r.allowed, code: r.status?.code, digest: r.status?.message.includes(image.digest) }))).toEqual(
      result.uids.map((uid) => ({ uid, allowed: false, code: 403, digest: true })),
    );
  });

  it('resolves the tag once and looks for the signature manifest once', () => {
    expect({ ...lookups(image, 'burst/unsigned', result.logMark), waited: result.coalesced >= BURST / 2 }).toEqual({
      tagResolutions: 1, signatureFetches: 1, repeated: [], waited: true,
    });
  });
});

describe('when 200 /mutate reviews for one never-seen image arrive at once', () => {
  let image: TestImage;
  let result: Burst;

  beforeAll(async () => {
    image = await pushImage(registry, 'burst/pinned', 'v1', [signer]);
    result = await burst('/mutate', image);
  }, 120_000);

  it('pins every one of them to the pushed digest', () => {
    const expected = [{ op: 'replace', path: imagePointer('Pod'), value: `${viaProxy(image)}@${image.digest}` }];
    expect(result.responses.map((r) => ({ uid: r.uid, allowed: r.allowed, patch: decodePatch(r) }))).toEqual(
      result.uids.map((uid) => ({ uid, allowed: true, patch: expected })),
    );
  });

  it('resolves the tag once', () => {
    // /mutate consults one cache only (tag → digest), and the one resolution on loopback can finish
    // while the 200 reviews are still being parsed, so the later ones find it cached: at least one
    // review waiting on the resolution in flight shows the burst overlapped it.
    expect({ ...lookups(image, 'burst/pinned', result.logMark), waited: result.coalesced >= 1 }).toMatchObject({ tagResolutions: 1, repeated: [], waited: true });
  });
});
