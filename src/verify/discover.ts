import { discoverLegacySignatures, signatureTag } from '../cosign/index.js';
import type { SignatureCandidate } from '../cosign/types.js';
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
 * Finds the signatures stored for `digest`: the legacy `sha256-<hex>.sig` tag in the signature
 * repository (the image's own unless overridden). Registry errors propagate: an unreachable
 * registry is not "unsigned", and the caller reports it as such.
 */
export async function discoverSignatures(
  registry: Registry,
  _image: Repository,
  signatureRepo: Repository,
  digest: string,
  options: VerifyOptions,
): Promise<Discovery> {
  const legacy = await discoverLegacySignatures(registry, signatureRepo, digest, options);
  return {
    candidates: legacy.candidates,
    failures: legacy.failures.map((f) => ({ code: f.code, message: `${f.location}: ${f.message}` })),
    searched: [`${signatureRepo.name}:${signatureTag(digest)}`],
  };
}
