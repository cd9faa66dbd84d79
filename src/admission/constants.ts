/**
 * Protocol strings and limits of the Kubernetes admission webhook API (admission.k8s.io/v1).
 * They live here, next to the only code that speaks that protocol.
 */

export const ADMISSION = {
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  /** The only patch type the API server accepts from a mutating webhook. */
  patchType: 'JSONPatch',
  /** Status reason of a denial, as the API server prints it. */
  deniedReason: 'Forbidden',
  deniedCode: 403,
  /**
   * Audit annotation keys are written without a domain: the API server prefixes each key with
   * the webhook's name (`validate.sigward.dev/audit-0`), and drops a key that then has two slashes.
   */
  auditKeyPrefix: 'audit-',
} as const;

export const ADMISSION_LIMITS = {
  /** The API server caps request bodies at 3 MiB; anything larger is not from it. */
  maxBodyBytes: 3 * 1024 * 1024,
  /** Images one review may name; a pod spec with more is denied instead of fanning out lookups. */
  maxImages: 256,
  /** Kubernetes uids are 36 characters; the cap stops a hostile uid flooding responses and logs. */
  maxUidLength: 128,
  /** DNS subdomain length, the longest name, kind or group Kubernetes accepts. */
  maxNameLength: 253,
  /** Denial message cap: enough for a dozen images, small enough for a terminal. */
  maxMessageLength: 4096,
  maxLineLength: 1024,
  /**
   * Characters of an image reference echoed in a message. References come from the pod and
   * may run to thousands of characters; cut, they leave room for the reason, which must survive.
   */
  maxEchoedReference: 256,
  /**
   * The API server truncates warnings past 256 runes each once they total 4 KiB
   * (apiserver endpoints/filters/warning.go), so sigward keeps each under 256 and sends at most 15.
   */
  maxWarningLength: 256,
  maxWarnings: 15,
  maxAuditAnnotations: 32,
  maxAuditValueLength: 1024,
} as const;
