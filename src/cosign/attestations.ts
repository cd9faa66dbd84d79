import { COSIGN, MEDIA_TYPE } from '../constants.js';
import type { Repository } from '../reference/types.js';
import type { Registry, RequestOptions } from '../registry/types.js';
import { mapConcurrent } from './concurrency.js';
import { assertCandidateCount, candidateFingerprint, fetchCandidate, SourceBlobs, type PlannedCandidate } from './limits.js';
import { parseSignatureManifest, SIGNATURE_MANIFEST_TYPES } from './manifest.js';
import { signatureTag } from './tag.js';
import type { LegacyDiscovery, SignatureFailure } from './types.js';

/** An attestation envelope is a statement and its signature; as with bundles, 1 MiB is generous. */
export const MAX_ATTESTATION_BYTES = 1024 * 1024;
const BLOB_CONCURRENCY = 4;

/**
 * Legacy attestations (cosign-spec §1.7): the manifest at `sha256-<hex>.att`, one DSSE envelope
 * per layer, the envelope being the layer's blob. No manifest (404) means none. They only
 * satisfy authorities that ask for an attestation; for the others they are not signatures.
 * The same bounds as the `.sig` tag: identical layers once, each blob fetched once, and the tag
 * refused whole past SIGNATURE_LIMITS before anything is fetched.
 */
export async function discoverLegacyAttestations(
  registry: Registry,
  repo: Repository,
  digest: string,
  options: RequestOptions,
): Promise<LegacyDiscovery> {
  const tag = signatureTag(digest, COSIGN.attestationTagSuffix);
  const where = `${repo.name}:${tag}`;
  const manifest = await registry.getManifest(repo, tag, { ...options, accept: SIGNATURE_MANIFEST_TYPES });
  if (manifest === undefined) return { candidates: [], failures: [] };
  const failures: SignatureFailure[] = [];
  const planned = new Map<string, PlannedCandidate>();
  parseSignatureManifest(manifest, where).forEach((layer, index) => {
    const location = `${where} layer ${index}`;
    if (!layer.ok) {
      failures.push({ location, code: layer.code, message: layer.message });
      return;
    }
    const { descriptor } = layer;
    if (descriptor.mediaType !== MEDIA_TYPE.dsseEnvelope) return;
    const fingerprint = candidateFingerprint(descriptor, descriptor.annotations ?? {});
    if (!planned.has(fingerprint)) planned.set(fingerprint, { location, descriptor, fingerprint });
  });
  const envelopes = [...planned.values()];
  assertCandidateCount(envelopes.length, where);
  const blobs = new SourceBlobs(registry, repo, where, options, { what: 'attestation', maxBytes: MAX_ATTESTATION_BYTES });
  blobs.reserve(envelopes.map((e) => e.descriptor));
  const outcomes = await mapConcurrent(envelopes, BLOB_CONCURRENCY, (envelope) => fetchCandidate(blobs, envelope, 'legacy', options));
  for (const outcome of outcomes) if ('failure' in outcome) failures.push(outcome.failure);
  return { candidates: outcomes.flatMap((o) => ('candidate' in o ? [o.candidate] : [])), failures };
}
