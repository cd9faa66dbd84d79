/**
 * Pure shaping of audit records: policy results for one pod's image become report results, and
 * a namespace's results become a `Report` (openreports.io) or `PolicyReport` (wgpolicyk8s.io)
 * object. Both APIs share the result shape (openreports.io began as a copy of wgpolicyk8s.io).
 */
import type { ErrorCode } from '../errors.js';
import type { PolicyMode, PolicyResult } from '../policy/index.js';
import type { DecidedImage } from '../verify/evaluator.js';
import { REPORT, REPORT_APIS } from './constants.js';

export type ReportApi = keyof typeof REPORT_APIS;
export type ResultStatus = 'pass' | 'fail' | 'warn' | 'error';

/** The object a result is about: a Pod, or the workload admitted when its pods have no name yet. */
export interface ResourceRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace: string;
  readonly uid?: string;
}

/** One pod × image × policy. */
export interface ImageResult {
  readonly resource: ResourceRef;
  readonly image: string;
  readonly digest: string | undefined;
  /** `ClusterImagePolicy/acme` or `ImagePolicy/app` (an ImagePolicy is in the report's namespace). */
  readonly policy: string;
  readonly mode: PolicyMode;
  readonly result: ResultStatus;
  readonly message: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
}

/** Failures that say the registry or sigward could not answer, not that the image is unsigned. */
const UNANSWERED: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'REGISTRY_UNREACHABLE', 'REGISTRY_TIMEOUT', 'REGISTRY_RATE_LIMITED', 'REGISTRY_ERROR', 'DEADLINE_EXCEEDED', 'INTERNAL',
]);
const MAX_MESSAGE = 1024;

/**
 * pass when the policy passed; otherwise error when every failure was the registry (or sigward)
 * not answering, warn for a warn-mode policy, else fail (audit and enforce alike: the report of
 * an audit policy shows what enforce would deny).
 */
export function statusOf(result: PolicyResult): ResultStatus {
  if (result.passed) return 'pass';
  const codes = result.failed.flatMap((authority) => authority.failures.map((failure) => failure.code));
  if (codes.length > 0 && codes.every((code) => UNANSWERED.has(code))) return 'error';
  return result.mode === 'warn' ? 'warn' : 'fail';
}

/** The report entry of an exemption's use names it as the policy: `ImageExemption/NAME`. */
export const EXEMPTION_PREFIX = 'ImageExemption/';

export function resultsOf(decided: DecidedImage, resource: ResourceRef, now: number): ImageResult[] {
  const exempted = decided.exempted;
  const exemption: ImageResult[] = exempted === undefined ? [] : [{
    resource,
    image: decided.image,
    digest: decided.digest,
    policy: `${EXEMPTION_PREFIX}${exempted.exemption}`,
    mode: 'warn',
    result: 'warn',
    message: `admitted by ImageExemption ${exempted.exemption} until ${new Date(exempted.expires).toISOString()} (${exempted.reason}); without it: ${exempted.withoutIt.join('; ')}`,
    timestamp: now,
  }];
  return [...exemption, ...decided.results.map((result) => ({
    resource,
    image: decided.image,
    digest: decided.digest,
    policy: `${result.kind}/${result.policy}`,
    mode: result.mode,
    result: statusOf(result),
    message: result.passed ? `verified by ${result.verified.join(', ')}` : result.message,
    timestamp: now,
  }))];
}

/** Results with the same key replace each other. */
export function resultKey(result: ImageResult): string {
  return `${result.resource.kind}/${result.resource.name}|${result.image}|${result.policy}`;
}

export function summaryOf(results: readonly ImageResult[]): Record<ResultStatus | 'skip', number> {
  const summary = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };
  for (const result of results) summary[result.result]++;
  return summary;
}

/**
 * The report of one namespace, results sorted (failures first, then by resource) and at most
 * REPORT.maxResults of them, so the object stays far below etcd's size limit; the summary
 * counts them all.
 */
export function reportObject(api: ReportApi, namespace: string, results: readonly ImageResult[]): Record<string, unknown> {
  const { group, version, kind } = REPORT_APIS[api];
  const order: Record<ResultStatus, number> = { fail: 0, error: 1, warn: 2, pass: 3 };
  const sorted = [...results].sort((a, b) => order[a.result] - order[b.result] || resultKey(a).localeCompare(resultKey(b)));
  return {
    apiVersion: `${group}/${version}`,
    kind,
    metadata: { name: REPORT.name, namespace, labels: { ...REPORT.labels } },
    summary: summaryOf(results),
    results: sorted.slice(0, REPORT.maxResults).map(toReportResult),
  };
}

function toReportResult(result: ImageResult): Record<string, unknown> {
  const { resource } = result;
  return {
    source: REPORT.source,
    policy: result.policy,
    rule: 'signatures',
    category: REPORT.category,
    result: result.result,
    scored: true,
    message: result.message.length > MAX_MESSAGE ? `${result.message.slice(0, MAX_MESSAGE - 1)}…` : result.message,
    timestamp: { seconds: Math.floor(result.timestamp / 1000), nanos: 0 },
    resources: [{ apiVersion: resource.apiVersion, kind: resource.kind, name: resource.name, namespace: resource.namespace, ...(resource.uid === undefined ? {} : { uid: resource.uid }) }],
    properties: { image: result.image, ...(result.digest === undefined ? {} : { digest: result.digest }), mode: result.mode },
  };
}
