import { MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Descriptor, Registry, RequestOptions } from '../registry/types.js';
import { mapConcurrent } from './concurrency.js';
import { isObject, parseJsonBytes } from './json.js';
import { parseSignatureManifest } from './manifest.js';
import { isSha256Digest, referrersTag } from './tag.js';
import type { LegacyDiscovery, SignatureCandidate, SignatureFailure } from './types.js';

/** A bundle is a few kilobytes (a certificate, a log entry and an envelope); 1 MiB is generous. */
export const MAX_BUNDLE_BYTES = 1024 * 1024;
/**
 * Referrers looked at for one digest. An image may carry SBOMs and attestations besides its
 * signatures, but a list long enough to be an amplification attack is refused, not walked.
 */
export const MAX_REFERRERS = 128;
const FETCH_CONCURRENCY = 4;

type Outcome = { readonly candidate: SignatureCandidate } | { readonly failure: SignatureFailure } | undefined;

/**
 * Finds the cosign v3 sigstore bundles stored for `digest` (cosign-spec §2.3): the referrers
 * API, or, where the registry lacks it, the `sha256-<hex>` referrers tag index. Each referring
 * manifest is fetched and kept when it has exactly one bundle layer, whose bytes become the
 * candidate. Listings are not trusted for artifact types (registries fill them with the config
 * media type), so only what is clearly something else is skipped without a look.
 */
export async function discoverBundles(
  registry: Registry,
  signatureRepo: Repository,
  digest: string,
  options: RequestOptions = {},
): Promise<LegacyDiscovery> {
  const listed = await listReferrers(registry, signatureRepo, digest, options);
  const possible = listed.filter((d) => mayBeBundle(d));
  if (possible.length > MAX_REFERRERS) {
    throw new SigwardError('TOO_MANY_SIGNATURES', `${signatureRepo.name}: ${possible.length} referrers of ${digest}, more than ${MAX_REFERRERS}`);
  }
  const outcomes = await mapConcurrent(possible, FETCH_CONCURRENCY, (descriptor) =>
    readReferrer(registry, signatureRepo, descriptor, options),
  );
  const candidates: SignatureCandidate[] = [];
  const failures: SignatureFailure[] = [];
  for (const outcome of outcomes) {
    if (outcome === undefined) continue;
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

async function readReferrer(registry: Registry, repo: Repository, descriptor: Descriptor, options: RequestOptions): Promise<Outcome> {
  const location = `${repo.name}@${descriptor.digest}`;
  try {
    const manifest = await registry.getManifest(repo, descriptor.digest, { ...options, accept: [MEDIA_TYPE.ociManifest] });
    if (manifest === undefined) return undefined;
    const layers = parseSignatureManifest(manifest, location);
    const bundles = layers.filter((l) => l.ok && l.descriptor.mediaType.startsWith(MEDIA_TYPE.sigstoreBundlePrefix));
    // cosign keeps a referrer only when it holds exactly one bundle layer; anything else is not a signature.
    const layer = bundles.length === 1 && layers.length === 1 ? bundles[0] : undefined;
    if (layer === undefined || !layer.ok) return undefined;
    const payload = await registry.getBlob(repo, layer.descriptor, { ...options, maxBytes: MAX_BUNDLE_BYTES });
    const annotations = layer.descriptor.annotations ?? {};
    return { candidate: { location, format: 'bundle', descriptor: layer.descriptor, payload, signature: new Uint8Array(0), annotations } };
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
