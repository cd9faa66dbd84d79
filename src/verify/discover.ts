import { COSIGN, MEDIA_TYPE } from '../constants.js';
import { mapConcurrent } from '../cosign/concurrency.js';
import { discoverBundles, discoverLegacySignatures, referrersTag, signatureTag } from '../cosign/index.js';
import { parseSignatureManifest, SIGNATURE_MANIFEST_TYPES, type ManifestLayer } from '../cosign/manifest.js';
import type { LegacyDiscovery, SignatureCandidate, SignatureFailure } from '../cosign/types.js';
import { digestOf } from '../crypto/hash.js';
import { SigwardError, type ErrorCode } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Registry } from '../registry/types.js';
import type { VerifyOptions } from './types.js';

/** An attestation envelope is a statement and its signature; as with bundles, 1 MiB is generous. */
const MAX_ATTESTATION_BYTES = 1024 * 1024;

/** What was found for one digest in one signature repository. */
export interface Discovery {
  readonly candidates: readonly SignatureCandidate[];
  /** Signatures that were found but could not be read (a layer without its signature annotation). */
  readonly failures: readonly { readonly code: ErrorCode; readonly message: string }[];
  /** Where signatures were looked for, for the "none found" message. */
  readonly searched: readonly string[];
}

/**
 * Finds every signature stored for `digest` in the signature repository (the image's own
 * unless overridden), in every format, with no per-policy switch: the legacy
 * `sha256-<hex>.sig` tag, cosign v3 bundles (referrers API, else the `sha256-<hex>` tag
 * index, signatures and attestations alike) and, when an authority asks for an attestation,
 * legacy attestations at `sha256-<hex>.att`.
 * All are looked up at once. When one lookup fails but the other finds signatures,
 * those signatures are judged and the failure reported beside them; when nothing is found and
 * a lookup failed, its error is thrown: an unreachable registry is not "unsigned", and an error
 * is never cached as a discovery.
 */
export async function discoverSignatures(
  registry: Registry,
  signatureRepo: Repository,
  digest: string,
  options: VerifyOptions & { readonly attestations?: boolean },
): Promise<Discovery> {
  const none: Promise<LegacyDiscovery> = Promise.resolve({ candidates: [], failures: [] });
  const lookups = await Promise.allSettled([
    discoverLegacySignatures(registry, signatureRepo, digest, options),
    discoverBundles(registry, signatureRepo, digest, options),
    options.attestations === true ? discoverLegacyAttestations(registry, signatureRepo, digest, options) : none,
  ]);
  const found = lookups.filter((r): r is PromiseFulfilledResult<LegacyDiscovery> => r.status === 'fulfilled');
  const errors = lookups.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  const candidates = found.flatMap((r) => r.value.candidates);
  const failures = found.flatMap((r) => r.value.failures.map((f) => ({ code: f.code, message: `${f.location}: ${f.message}` })));
  if (candidates.length === 0 && errors[0] !== undefined) throw errors[0].reason;
  return {
    candidates,
    failures: [...failures, ...errors.map((e) => failureOf(e.reason))],
    searched: [
      `${signatureRepo.name}:${signatureTag(digest)}`,
      `referrers of ${signatureRepo.name}@${digest} (or tag ${referrersTag(digest)})`,
      ...(options.attestations === true ? [`${signatureRepo.name}:${signatureTag(digest, COSIGN.attestationTagSuffix)}`] : []),
    ],
  };
}

/**
 * Legacy attestations (cosign-spec §1.7): the manifest at `sha256-<hex>.att`, one DSSE envelope
 * per layer, the envelope being the layer's blob. No manifest (404) means none. They only
 * satisfy authorities that ask for an attestation; for the others they are not signatures.
 */
async function discoverLegacyAttestations(registry: Registry, repo: Repository, digest: string, options: VerifyOptions): Promise<LegacyDiscovery> {
  const tag = signatureTag(digest, COSIGN.attestationTagSuffix);
  const where = `${repo.name}:${tag}`;
  const manifest = await registry.getManifest(repo, tag, { ...options, accept: SIGNATURE_MANIFEST_TYPES });
  if (manifest === undefined) return { candidates: [], failures: [] };
  const outcomes = await mapConcurrent(parseSignatureManifest(manifest, where), 4, (layer, index) =>
    readEnvelope(registry, repo, layer, `${where} layer ${index}`, options),
  );
  return {
    candidates: outcomes.flatMap((o) => (o !== undefined && 'candidate' in o ? [o.candidate] : [])),
    failures: outcomes.flatMap((o) => (o !== undefined && 'failure' in o ? [o.failure] : [])),
  };
}

type EnvelopeOutcome = { readonly candidate: SignatureCandidate } | { readonly failure: SignatureFailure } | undefined;

async function readEnvelope(registry: Registry, repo: Repository, layer: ManifestLayer, location: string, options: VerifyOptions): Promise<EnvelopeOutcome> {
  if (!layer.ok) return { failure: { location, code: layer.code, message: layer.message } };
  const { descriptor } = layer;
  if (descriptor.mediaType !== MEDIA_TYPE.dsseEnvelope) return undefined;
  try {
    if (descriptor.size > MAX_ATTESTATION_BYTES) {
      throw new SigwardError('PAYLOAD_TOO_LARGE', `attestation ${descriptor.digest} declares ${descriptor.size} bytes, more than ${MAX_ATTESTATION_BYTES}`);
    }
    const envelope = await registry.getBlob(repo, descriptor, { ...options, maxBytes: MAX_ATTESTATION_BYTES });
    // Checked here too: the signed bytes must be the bytes the manifest names, whatever served them.
    if (envelope.length !== descriptor.size || digestOf(envelope) !== descriptor.digest) {
      throw new SigwardError('BLOB_DIGEST_MISMATCH', `attestation bytes do not match ${descriptor.digest} (${descriptor.size} bytes)`);
    }
    const annotations = descriptor.annotations ?? {};
    return { candidate: { location, format: 'legacy', descriptor, payload: envelope, signature: new Uint8Array(0), annotations } };
  } catch (err) {
    if (!(err instanceof SigwardError) || options.signal?.aborted === true) throw err;
    return { failure: { location, code: err.code, message: err.message } };
  }
}

function failureOf(reason: unknown): { code: ErrorCode; message: string } {
  const code = typeof reason === 'object' && reason !== null && 'code' in reason ? (reason as { code: ErrorCode }).code : 'INTERNAL';
  return { code, message: reason instanceof Error ? reason.message : String(reason) };
}
