/**
 * The one error type of sigward. Tests assert `code`; people read `message`; `cause` keeps the
 * underlying error. Codes are literal so a typo is a compile error.
 */
export type ErrorCode =
  // usage and input
  | 'USAGE'
  | 'FILE_UNREADABLE'
  | 'CONFIG_INVALID'
  // image references
  | 'REFERENCE_INVALID'
  | 'REFERENCE_NAME_TOO_LONG'
  | 'DIGEST_INVALID'
  | 'DIGEST_UNSUPPORTED'
  // registry protocol
  | 'REGISTRY_UNREACHABLE'
  | 'REGISTRY_TIMEOUT'
  | 'REGISTRY_TLS'
  | 'REGISTRY_AUTH'
  | 'CREDENTIALS_UNAVAILABLE'
  | 'REGISTRY_DENIED'
  | 'REGISTRY_RATE_LIMITED'
  | 'REGISTRY_ERROR'
  | 'REGISTRY_RESPONSE_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_TOO_LARGE'
  | 'MANIFEST_DIGEST_MISMATCH'
  | 'BLOB_TOO_LARGE'
  | 'BLOB_DIGEST_MISMATCH'
  | 'BLOB_SIZE_MISMATCH'
  | 'DEADLINE_EXCEEDED'
  // keys and signatures
  | 'KEY_INVALID'
  | 'KEY_UNSUPPORTED'
  | 'SIGNATURE_INVALID'
  | 'SIGNATURE_MALFORMED'
  | 'SIGNATURE_MISSING'
  | 'NO_SIGNATURES'
  | 'NO_MATCHING_SIGNATURES'
  | 'PAYLOAD_INVALID'
  | 'PAYLOAD_TOO_LARGE'
  | 'CLAIM_MISMATCH'
  | 'ANNOTATION_MISMATCH'
  | 'TOO_MANY_SIGNATURES'
  | 'SIGNATURES_TOO_LARGE'
  | 'THRESHOLD_NOT_MET'
  | 'PLATFORM_MISSING'
  | 'TOO_MANY_PLATFORMS'
  // bundles and transparency
  | 'BUNDLE_INVALID'
  | 'BUNDLE_UNSUPPORTED'
  | 'TLOG_INVALID'
  | 'TLOG_MISSING'
  | 'TLOG_ENTRY_MISMATCH'
  | 'INCLUSION_PROOF_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TRUSTED_ROOT_INVALID'
  | 'CERTIFICATE_INVALID'
  | 'CERTIFICATE_EXPIRED'
  | 'SCT_INVALID'
  | 'IDENTITY_MISMATCH'
  | 'ISSUER_MISMATCH'
  // policy and admission
  | 'POLICY_INVALID'
  | 'NO_POLICY'
  | 'REVIEW_INVALID'
  | 'REVIEW_TOO_LARGE'
  // the Kubernetes API
  | 'KUBE_API_ERROR'
  | 'INTERNAL';

export class SigwardError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SigwardError';
    this.code = code;
  }
}

export function isSigwardError(err: unknown, code?: ErrorCode): err is SigwardError {
  return err instanceof SigwardError && (code === undefined || err.code === code);
}

/** A message for a person from anything thrown; never `JSON.stringify(err)`, which prints `{}`. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The code of a thrown value, `INTERNAL` for anything that is not a SigwardError. */
export function errorCode(err: unknown): ErrorCode {
  return err instanceof SigwardError ? err.code : 'INTERNAL';
}
