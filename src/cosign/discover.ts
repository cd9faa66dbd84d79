import { MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Registry, RequestOptions } from '../registry/types.js';
import { mapConcurrent } from './concurrency.js';
import { assertCandidateCount, candidateFingerprint, fetchCandidate, SourceBlobs, type PlannedCandidate } from './limits.js';
import { parseSignatureManifest, SIGNATURE_MANIFEST_TYPES, type ManifestLayer } from './manifest.js';
import { decodeSignatureAnnotation } from './signature-annotation.js';
import { signatureTag } from './tag.js';
import type { LegacyDiscovery, SignatureCandidate, SignatureFailure } from './types.js';

/**
 * A simple-signing payload is a few hundred bytes. cosign allows 128 MiB; sigward refuses
 * anything past 1 MiB by the size the layer declares, before a byte is downloaded, so a
 * pushed 100 MB "payload" cannot stall or exhaust the webhook.
 */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Payload blobs fetched at once for one signature manifest. */
const BLOB_CONCURRENCY = 4;

/** A layer that names a payload and carries what a signature needs, not yet fetched. */
type PlannedLayer = PlannedCandidate & { readonly signature: Uint8Array };

/**
 * Finds the legacy signatures of `digest`: the manifest at `<signatureRepo>:sha256-<hex>.sig`,
 * one signature per simple-signing layer (cosign-spec §1.1-1.2). No manifest (404) means no
 * signatures. Layers of other media types (attachments) are not signatures and are skipped.
 * A layer that cannot be read (no signature annotation, payload too large, wrong bytes) is
 * reported as a failure of that layer, never dropped silently, and never stops the others.
 * Identical layers are one signature; each payload blob is fetched once. More distinct
 * signatures or payload bytes than SIGNATURE_LIMITS allows fail the whole tag before any blob
 * is fetched. Registry errors on the manifest propagate: an unreachable registry is not "unsigned".
 */
export async function discoverLegacySignatures(
  registry: Registry,
  signatureRepo: Repository,
  digest: string,
  options: RequestOptions = {},
): Promise<LegacyDiscovery> {
  const tag = signatureTag(digest);
  const where = `${signatureRepo.name}:${tag}`;
  const manifest = await registry.getManifest(signatureRepo, tag, { ...options, accept: SIGNATURE_MANIFEST_TYPES });
  if (manifest === undefined) return { candidates: [], failures: [] };

  const failures: SignatureFailure[] = [];
  const planned = new Map<string, PlannedLayer>();
  parseSignatureManifest(manifest, where).forEach((layer, index) => {
    const outcome = planLayer(layer, `${where} layer ${index}`);
    if (outcome === undefined) return;
    if ('failure' in outcome) failures.push(outcome.failure);
    else if (!planned.has(outcome.fingerprint)) planned.set(outcome.fingerprint, outcome);
  });
  const layers = [...planned.values()];
  assertCandidateCount(layers.length, where);
  const blobs = new SourceBlobs(registry, signatureRepo, where, options, { what: 'payload', maxBytes: MAX_PAYLOAD_BYTES });
  blobs.reserve(layers.map((l) => l.descriptor));

  const outcomes = await mapConcurrent(layers, BLOB_CONCURRENCY, (layer) => fetchCandidate(blobs, layer, 'legacy', options));
  const candidates: SignatureCandidate[] = [];
  for (const outcome of outcomes) {
    if ('candidate' in outcome) candidates.push(outcome.candidate);
    else failures.push(outcome.failure);
  }
  return { candidates, failures };
}

/**
 * What a layer is before anything is fetched: not a signature (undefined), a failure (its
 * descriptor or signature annotation cannot be read), or a signature whose payload is to be
 * fetched. The annotation is checked first: a layer without a signature costs no request.
 */
function planLayer(layer: ManifestLayer, location: string): PlannedLayer | { readonly failure: SignatureFailure } | undefined {
  if (!layer.ok) return { failure: { location, code: layer.code, message: layer.message } };
  const { descriptor } = layer;
  if (descriptor.mediaType !== MEDIA_TYPE.simpleSigning) return undefined;
  const annotations = descriptor.annotations ?? {};
  try {
    const signature = decodeSignatureAnnotation(annotations);
    return { location, descriptor, signature, fingerprint: candidateFingerprint(descriptor, annotations) };
  } catch (err) {
    if (!(err instanceof SigwardError)) throw err;
    return { failure: { location, code: err.code, message: err.message } };
  }
}
