import { MEDIA_TYPE } from '../constants.js';
import { digestOf } from '../crypto/hash.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Descriptor, Registry, RequestOptions } from '../registry/types.js';
import { mapConcurrent } from './concurrency.js';
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

type LayerOutcome =
  | { readonly kind: 'candidate'; readonly candidate: SignatureCandidate }
  | { readonly kind: 'failure'; readonly failure: SignatureFailure }
  | { readonly kind: 'skipped' };

/**
 * Finds the legacy signatures of `digest`: the manifest at `<signatureRepo>:sha256-<hex>.sig`,
 * one signature per simple-signing layer (cosign-spec §1.1-1.2). No manifest (404) means no
 * signatures. Layers of other media types (attachments) are not signatures and are skipped.
 * A layer that cannot be read (no signature annotation, payload too large, wrong bytes) is
 * reported as a failure of that layer, never dropped silently, and never stops the others.
 * Registry errors on the manifest propagate: an unreachable registry is not "unsigned".
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

  const layers = parseSignatureManifest(manifest, where);
  const outcomes = await mapConcurrent(layers, BLOB_CONCURRENCY, (layer, index) =>
    readLayer(registry, signatureRepo, layer, `${where} layer ${index}`, options),
  );
  const candidates: SignatureCandidate[] = [];
  const failures: SignatureFailure[] = [];
  for (const outcome of outcomes) {
    if (outcome.kind === 'candidate') candidates.push(outcome.candidate);
    else if (outcome.kind === 'failure') failures.push(outcome.failure);
  }
  return { candidates, failures };
}

async function readLayer(
  registry: Registry,
  repo: Repository,
  layer: ManifestLayer,
  location: string,
  options: RequestOptions,
): Promise<LayerOutcome> {
  if (!layer.ok) return { kind: 'failure', failure: { location, code: layer.code, message: layer.message } };
  const { descriptor } = layer;
  if (descriptor.mediaType !== MEDIA_TYPE.simpleSigning) return { kind: 'skipped' };
  try {
    const annotations = descriptor.annotations ?? {};
    // The annotation is checked before the payload is fetched: a layer without a signature
    // costs no request.
    const signature = decodeSignatureAnnotation(annotations);
    const payload = await fetchPayload(registry, repo, descriptor, options);
    return { kind: 'candidate', candidate: { location, format: 'legacy', descriptor, payload, signature, annotations } };
  } catch (err) {
    if (!(err instanceof SigwardError) || options.signal?.aborted === true) throw err;
    return { kind: 'failure', failure: { location, code: err.code, message: err.message } };
  }
}

async function fetchPayload(
  registry: Registry,
  repo: Repository,
  descriptor: Descriptor,
  options: RequestOptions,
): Promise<Uint8Array> {
  if (descriptor.size > MAX_PAYLOAD_BYTES) {
    throw new SigwardError(
      'PAYLOAD_TOO_LARGE',
      `payload ${descriptor.digest} declares ${descriptor.size} bytes, more than the ${MAX_PAYLOAD_BYTES} a simple-signing payload may have`,
    );
  }
  const payload = await registry.getBlob(repo, descriptor, { ...options, maxBytes: MAX_PAYLOAD_BYTES });
  // The registry client checks this too; it is repeated here because the signed bytes must be
  // the bytes the manifest names, whatever Registry implementation served them.
  if (payload.length !== descriptor.size || digestOf(payload) !== descriptor.digest) {
    throw new SigwardError('BLOB_DIGEST_MISMATCH', `payload bytes do not match ${descriptor.digest} (${descriptor.size} bytes)`);
  }
  return payload;
}
