import { SigwardError } from '../errors.js';
import { DIGEST_ALGORITHM, DIGEST_ENCODED, MAX_DIGEST_LENGTH } from './grammar.js';

const SHA256_HEX = /^[a-f0-9]{64}$/;
const SHA512_HEX = /^[a-f0-9]{128}$/;

/**
 * Checks a digest (`algorithm:encoded`) and returns it unchanged. sigward admits sha256 only:
 * cosign names signature tags `sha256-<hex>.sig` and signs `docker-manifest-digest` as sha256,
 * so a digest of any other algorithm could never be bound to a signature. Throws DIGEST_INVALID
 * for a malformed digest (wrong length, upper-case hex: registries compare digests as strings,
 * so `sha256:ABC…` would name nothing) and DIGEST_UNSUPPORTED for a well-formed one of another
 * algorithm.
 */
export function parseDigest(digest: string, context: string): string {
  const problem = digestProblem(digest);
  if (problem !== undefined) {
    throw new SigwardError(problem.code, `${context}: ${problem.message}`);
  }
  return digest;
}

/** Whether `s` is a digest sigward can verify at: `sha256:` and 64 lower-case hex digits. */
export function isDigest(s: string): boolean {
  return digestProblem(s) === undefined;
}

interface DigestProblem {
  readonly code: 'DIGEST_INVALID' | 'DIGEST_UNSUPPORTED';
  readonly message: string;
}

function digestProblem(digest: string): DigestProblem | undefined {
  if (digest.length > MAX_DIGEST_LENGTH) {
    return { code: 'DIGEST_INVALID', message: `digest is ${digest.length} characters long (${MAX_DIGEST_LENGTH} at most)` };
  }
  const colon = digest.indexOf(':');
  const algorithm = colon < 0 ? digest : digest.slice(0, colon);
  const encoded = colon < 0 ? '' : digest.slice(colon + 1);
  if (colon < 0 || !DIGEST_ALGORITHM.test(algorithm) || !DIGEST_ENCODED.test(encoded)) {
    return { code: 'DIGEST_INVALID', message: 'digest must be algorithm:encoded, such as sha256:<64 hex digits>' };
  }
  switch (algorithm) {
    case 'sha256':
      return SHA256_HEX.test(encoded)
        ? undefined
        : { code: 'DIGEST_INVALID', message: 'a sha256 digest has exactly 64 lower-case hex digits' };
    case 'sha512':
      return SHA512_HEX.test(encoded)
        ? { code: 'DIGEST_UNSUPPORTED', message: 'sha512 digests are not supported; cosign signs sha256 digests' }
        : { code: 'DIGEST_INVALID', message: 'a sha512 digest has exactly 128 lower-case hex digits' };
    default:
      return { code: 'DIGEST_UNSUPPORTED', message: `digest algorithm ${algorithm} is not supported (sha256 only)` };
  }
}
