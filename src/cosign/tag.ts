import { COSIGN } from '../constants.js';
import { SigwardError } from '../errors.js';

const SHA256_DIGEST = /^sha256:([a-f0-9]{64})$/;

/**
 * The tag cosign stores an image's signatures under: `sha256-<hex>.sig` (`.att` for attestations),
 * in the signature repository (cosign-spec §1.1). Only sha256 digests are accepted: cosign
 * signs nothing else, and a tag built from an unchecked string could name any other tag.
 */
export function signatureTag(digest: string, suffix: string = COSIGN.signatureTagSuffix): string {
  if (!/^[a-z]{1,16}$/.test(suffix)) {
    throw new SigwardError('USAGE', `invalid signature tag suffix ${JSON.stringify(suffix.slice(0, 100))}`);
  }
  return `${referrersTag(digest)}.${suffix}`;
}

/** The referrers tag schema's tag for a digest (`sha256-<hex>`), where registries without the
 * referrers API keep the index of an image's referrers (OCI distribution-spec v1.1). */
export function referrersTag(digest: string): string {
  const match = SHA256_DIGEST.exec(digest);
  if (!match) {
    const code = digest.startsWith('sha256:') || !digest.includes(':') ? 'DIGEST_INVALID' : 'DIGEST_UNSUPPORTED';
    throw new SigwardError(code, `not a sha256 digest: ${JSON.stringify(digest.slice(0, 100))}`);
  }
  return `sha256-${match[1] ?? ''}`;
}

/** Whether `digest` is a well-formed sha256 digest, the only kind payloads and layers may name. */
export function isSha256Digest(digest: string): boolean {
  return SHA256_DIGEST.test(digest);
}
