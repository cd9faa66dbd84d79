import { MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Descriptor, Registry, RequestOptions } from '../registry/types.js';
import { mapConcurrent } from './concurrency.js';
import { assertCandidateCount, candidateFingerprint, fetchCandidate, SIGNATURE_LIMITS, SourceBlobs, type PlannedCandidate } from './limits.js';
import { isObject, parseJsonBytes } from './json.js';
import { parseSignatureManifest } from './manifest.js';
import { isSha256Digest, referrersTag } from './tag.js';
import type { LegacyDiscovery, SignatureCandidate, SignatureFailure } from './types.js';

/** A bundle is a few kilobytes (a certificate, a log entry and an envelope); 1 MiB is generous. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;
const FETCH_CONCURRENCY = 4;

/**
 * Finds the cosign v3 sigstore bundles stored for `digest` (cosign-spec §2.3): the referrers
 * API, or, where the registry lacks it, the `sha256-<hex>` referrers tag index. Each referring
 * manifest is fetched and kept when it has exactly one bundle layer, whose bytes become the
 * candidate. Listings are not trusted for artifact types (registries fill them with the config
 * media type), so only what is clearly something else is skipped without a look.
 * Bounded as every source is (SIGNATURE_LIMITS): a listing too long to be an image's referrers,
 * more distinct referrers than sigward checks, or bundles past the byte budget fail the whole
 * source, the last before any bundle is fetched.
 */
export async function discoverBundles(
  registry: Registry,
  signatureRepo: Repository,
  digest: string,
  options: RequestOptions = {},
): Promise<LegacyDiscovery> {
  const where = `referrers of ${signatureRepo.name}@${digest}`;
  const listed = await listReferrers(registry, signatureRepo, digest, options);
  if (listed.length > SIGNATURE_LIMITS.referrerEntries) {
    throw new SigwardError('TOO_MANY_SIGNATURES', `${where}: ${listed.length} referrers listed, more than the ${SIGNATURE_LIMITS.referrerEntries} sigward reads`);
  }
  const possible = [...new Map(listed.filter((d) => mayBeBundle(d)).map((d) => [d.digest, d])).values()];
  assertCandidateCount(possible.length, where);
  const found = await mapConcurrent(possible, FETCH_CONCURRENCY, (descriptor) => readReferrer(registry, signatureRepo, descriptor, options));
  const failures: SignatureFailure[] = found.flatMap((f) => (f !== undefined && 'failure' in f ? [f.failure] : []));
  const layers = found.flatMap((f) => (f !== undefined && 'descriptor' in f ? [f] : []));
  const blobs = new SourceBlobs(registry, signatureRepo, where, options, { what: 'bundle', maxBytes: MAX_BUNDLE_BYTES });
  blobs.reserve(layers.map((l) => l.descriptor));
  const outcomes = await mapConcurrent(layers, FETCH_CONCURRENCY, (layer) => fetchCandidate(blobs, layer, 'bundle', options));
  const candidates: SignatureCandidate[] = [];
  for (const outcome of outcomes) {
    if ('candidate' in outcome) candidates.push(outcome.candidate);
    else failures.push(outcome.failure);
  }
  return { candidates, failures };
}

/** The referrers API when the registry has it, else the referrers tag schema's index. */
async function listReferrers(registry: Registry, repo: Repository, digest: string, options: RequestOptions): Promise<readonly Descriptor[]> {
  const listed = await registry.getReferrers(repo, digest, options);
  if (listed !== undefined) return listed;
  const tag = referrersTag(digest);
  const index = await registry.getManifest(repo, tag, { ...options, accept: [MEDIA_TYPE.ociIndex] });
  if (index === undefined) return [];
  return parseIndex(index.bytes, `${repo.name}:${tag}`);
}

function mayBeBundle(descriptor: Descriptor): boolean {
  const type = descriptor.artifactType;
  return type === undefined || type.startsWith(MEDIA_TYPE.sigstoreBundlePrefix) || type === MEDIA_TYPE.ociEmpty;
}

/** The referrer's one bundle layer; undefined when it is not a signature (cosign's rule). */
async function readReferrer(
  registry: Registry,
  repo: Repository,
  descriptor: Descriptor,
  options: RequestOptions,
): Promise<PlannedCandidate | { readonly failure: SignatureFailure } | undefined> {
  const location = `${repo.name}@${descriptor.digest}`;
  try {
    const manifest = await registry.getManifest(repo, descriptor.digest, { ...options, accept: [MEDIA_TYPE.ociManifest] });
    if (manifest === undefined) return undefined;
    const layers = parseSignatureManifest(manifest, location);
    const bundles = layers.filter((l) => l.ok && l.descriptor.mediaType.startsWith(MEDIA_TYPE.sigstoreBundlePrefix));
    // cosign keeps a referrer only when it holds exactly one bundle layer; anything else is not a signature.
    const layer = bundles.length === 1 && layers.length === 1 ? bundles[0] : undefined;
    if (layer === undefined || !layer.ok) return undefined;
    return { location, descriptor: layer.descriptor, fingerprint: candidateFingerprint(layer.descriptor, layer.descriptor.annotations ?? {}) };
  } catch (err) {
    if (!(err instanceof SigwardError) || options.signal?.aborted === true) throw err;
    return { failure: { location, code: err.code, message: err.message } };
  }
}

/** The referrers tag index, read by its JSON shape (some registries send no Content-Type). */
function parseIndex(bytes: Uint8Array, location: string): Descriptor[] {
  let doc: unknown;
  try {
    doc = parseJsonBytes(bytes);
  } catch (err) {
    throw new SigwardError('SIGNATURE_MALFORMED', `${location}: referrers index is not JSON`, { cause: err });
  }
  if (!isObject(doc) || !Array.isArray(doc.manifests)) {
    throw new SigwardError('SIGNATURE_MALFORMED', `${location}: not an OCI index (no manifests array)`);
  }
  const out: Descriptor[] = [];
  for (const entry of doc.manifests as unknown[]) {
    if (!isObject(entry)) continue;
    const { mediaType, digest, size, artifactType } = entry;
    if (typeof mediaType !== 'string' || typeof digest !== 'string' || !isSha256Digest(digest)) continue;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) continue;
    out.push({ mediaType, digest, size, ...(typeof artifactType === 'string' ? { artifactType } : {}) });
  }
  return out;
}
