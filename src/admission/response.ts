import { ADMISSION, ADMISSION_LIMITS } from './constants.js';
import type { ImageDecision } from './types.js';

/** The AdmissionResponse fields sigward sets (admission.k8s.io/v1). */
export interface AdmissionResponse {
  readonly uid: string;
  readonly allowed: boolean;
  readonly status?: { readonly code: number; readonly reason: string; readonly message: string };
  readonly warnings?: readonly string[];
  readonly auditAnnotations?: Readonly<Record<string, string>>;
  readonly patchType?: typeof ADMISSION.patchType;
  /** Base64 of a JSON Patch document. */
  readonly patch?: string;
}

export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION.apiVersion;
  readonly kind: typeof ADMISSION.kind;
  readonly response: AdmissionResponse;
}

export type ReviewVerdict = 'allow' | 'deny' | 'warn' | 'audit';

/** A review to send, with the verdict and the denial lines that logs and metrics record. */
export interface ReviewAnswer {
  readonly review: AdmissionReviewResponse;
  readonly verdict: ReviewVerdict;
  readonly denied: readonly string[];
}

export function reviewOf(response: AdmissionResponse): AdmissionReviewResponse {
  return { apiVersion: ADMISSION.apiVersion, kind: ADMISSION.kind, response };
}

export function allowAnswer(uid: string, extra: Omit<AdmissionResponse, 'uid' | 'allowed'> = {}): ReviewAnswer {
  return { review: reviewOf({ uid, allowed: true, ...extra }), verdict: 'allow', denied: [] };
}

/** A denial: `status.code` 403 and one compact line per cause, joined with '; '. */
export function denyAnswer(uid: string, lines: readonly string[], extra: Omit<AdmissionResponse, 'uid' | 'allowed'> = {}): ReviewAnswer {
  const message = capLines(lines, ADMISSION_LIMITS.maxMessageLength);
  const status = { code: ADMISSION.deniedCode, reason: ADMISSION.deniedReason, message };
  return { review: reviewOf({ uid, ...extra, allowed: false, status }), verdict: 'deny', denied: lines };
}

/**
 * Folds per-image decisions into one answer. Any deny denies the review (warnings and audit
 * annotations of the other images still ride along); otherwise warn and audit results merge.
 * An action sigward does not know is a deny: a new outcome must never admit by accident.
 */
export function decisionsAnswer(uid: string, decisions: readonly ImageDecision[]): ReviewAnswer {
  const denied: string[] = [];
  const warned: ImageDecision[] = [];
  const audited: ImageDecision[] = [];
  for (const decision of decisions) {
    switch (decision.action) {
      case 'allow':
        break;
      case 'warn':
        warned.push(decision);
        break;
      case 'audit':
        audited.push(decision);
        break;
      case 'deny':
      default:
        denied.push(describeDecision(decision));
    }
  }
  const extra = {
    ...(warned.length > 0 ? { warnings: warnings(warned) } : {}),
    ...(audited.length > 0 ? { auditAnnotations: auditAnnotations(audited) } : {}),
  };
  if (denied.length > 0) return denyAnswer(uid, denied, extra);
  const answer = allowAnswer(uid, extra);
  const verdict: ReviewVerdict = warned.length > 0 ? 'warn' : audited.length > 0 ? 'audit' : 'allow';
  return { ...answer, verdict };
}

/** `spec.containers[0].image: image REF, digest D, policy P: reason; reason` for people (`policy P` left out when the reasons name it). */
export function describeDecision(decision: ImageDecision): string {
  const full = decision.reference ?? decision.use.image;
  const reference = cap(full, ADMISSION_LIMITS.maxEchoedReference);
  const digest = decision.digest !== undefined && !full.endsWith(decision.digest) ? `, digest ${decision.digest}` : '';
  const reasons = decision.reasons.length > 0 ? decision.reasons.join(' / ') : 'not verified';
  // A policy's own reason starts with its name ("ClusterImagePolicy acme (enforce): …"): it is
  // not named twice, which would spend the characters kubectl shows on repetition.
  const named = namedInReasons(decision.policies, reasons);
  const policies = named ? '' : `, policy ${decision.policies.length > 0 ? decision.policies.join(', ') : '(none)'}`;
  const container = decision.use.container === undefined ? '' : ` (container ${decision.use.container})`;
  const line = `${decision.use.path}${container}: image ${reference}${digest}${policies}: ${reasons}`;
  return cap(line, ADMISSION_LIMITS.maxLineLength);
}

function namedInReasons(policies: readonly string[], reasons: string): boolean {
  return policies.length > 0 && policies.every((policy) => reasons.includes(policy));
}

/** Short lines for `kubectl` to print; the full story is in the logs. */
function warnings(decisions: readonly ImageDecision[]): string[] {
  const max = ADMISSION_LIMITS.maxWarnings;
  const shown = decisions.length <= max ? decisions : decisions.slice(0, max - 1);
  const lines = shown.map((d) => {
    const reasons = d.reasons.length > 0 ? d.reasons.join(' / ') : 'not verified';
    const policies = d.policies.length > 0 && !namedInReasons(d.policies, reasons) ? ` (${d.policies.join(', ')})` : '';
    const image = cap(d.use.image, ADMISSION_LIMITS.maxEchoedReference / 4);
    return cap(`sigward: ${d.use.path} ${image} not verified${policies}: ${reasons}`, ADMISSION_LIMITS.maxWarningLength);
  });
  const rest = decisions.length - shown.length;
  if (rest > 0) lines.push(`sigward: and ${rest} more images not verified (warn mode)`);
  return lines;
}

function auditAnnotations(decisions: readonly ImageDecision[]): Record<string, string> {
  const annotations: Record<string, string> = {};
  for (const [index, decision] of decisions.slice(0, ADMISSION_LIMITS.maxAuditAnnotations).entries()) {
    annotations[`${ADMISSION.auditKeyPrefix}${index}`] = cap(describeDecision(decision), ADMISSION_LIMITS.maxAuditValueLength);
  }
  return annotations;
}

/** Joins lines with '; ' up to about `max` characters, counting the lines left out. */
function capLines(lines: readonly string[], max: number): string {
  let message = '';
  for (const [index, line] of lines.entries()) {
    if (index > 0 && message.length + line.length + 2 > max - 32) return `${message}; and ${lines.length - index} more`;
    message = index === 0 ? cap(line, max) : `${message}; ${line}`;
  }
  return message;
}

function cap(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
