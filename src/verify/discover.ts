import { COSIGN } from '../constants.js';
import { discoverBundles, discoverLegacyAttestations, discoverLegacySignatures, referrersTag, signatureTag } from '../cosign/index.js';
import type { LegacyDiscovery, SignatureCandidate } from '../cosign/types.js';
import type { ErrorCode } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Registry } from '../registry/types.js';
import type { VerifyOptions } from './types.js';

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

function failureOf(reason: unknown): { code: ErrorCode; message: string } {
  const code = typeof reason === 'object' && reason !== null && 'code' in reason ? (reason as { code: ErrorCode }).code : 'INTERNAL';
  return { code, message: reason instanceof Error ? reason.message : String(reason) };
}
