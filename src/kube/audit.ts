/**
 * Turns decided images into audit records, off the request path. The evaluator calls
 * `onDecided` for every image it decides; for an admission review, audit and warn failures go
 * to the namespace's policy report and become Events (an enforce failure denies, and the person
 * who applied the object sees the reason at once). Dry-run reviews record nothing. The scan
 * collects its own reviews' decisions through `collect` instead.
 */
import type { ReviewRequest } from '../admission/types.js';
import type { DecidedImage } from '../verify/evaluator.js';
import { EVENT } from './constants.js';
import type { EventRecorder } from './events.js';
import { EXEMPTION_PREFIX, resultsOf, type ImageResult, type ResourceRef } from './report-shape.js';
import type { ReportWriter } from './reports.js';

export class Auditor {
  private readonly collectors = new WeakMap<ReviewRequest, DecidedImage[]>();

  constructor(private readonly writer: ReportWriter, private readonly events: EventRecorder) {}

  /** For EvaluatorOptions.onDecided: returns at once. */
  readonly onDecided = (request: ReviewRequest, decided: DecidedImage): void => {
    const collector = this.collectors.get(request);
    if (collector !== undefined) {
      collector.push(decided);
      return;
    }
    if (request.dryRun || request.namespace === undefined) return;
    const resource = resourceOf(request);
    if (resource === undefined) return;
    const failures = resultsOf(decided, resource, Date.now()).filter((r) => r.result !== 'pass' && r.mode !== 'enforce');
    if (failures.length === 0) return;
    this.writer.record(request.namespace, failures);
    for (const failure of failures) this.notify(failure);
  };

  /** The images decided for `request` are added to the returned list instead of being recorded. */
  collect(request: ReviewRequest): DecidedImage[] {
    const list: DecidedImage[] = [];
    this.collectors.set(request, list);
    return list;
  }

  /** An Event for a failing result; pass results are ignored. */
  notify(result: ImageResult): void {
    if (result.result === 'pass') return;
    const reason = result.policy.startsWith(EXEMPTION_PREFIX) ? EVENT.exempted : result.result === 'warn' ? EVENT.warned : EVENT.failed;
    const note = `${result.image}${result.digest === undefined ? '' : `@${result.digest}`}: ${result.message}`;
    void this.events.record({ regarding: result.resource, reason, note, key: `${result.image}|${result.policy}|${result.result}` });
  }
}

/**
 * The object a result is about: the admitted object when it has a name, else its controller
 * (a ReplicaSet's pods are admitted before they are named), else nothing to point at.
 */
export function resourceOf(request: ReviewRequest): ResourceRef | undefined {
  const namespace = request.namespace;
  if (namespace === undefined) return undefined;
  const metadata = record(request.object?.metadata);
  const uid = typeof metadata?.uid === 'string' ? metadata.uid : undefined;
  if (request.name !== undefined && request.name !== '') {
    const { group, version, kind } = request.kind;
    return { apiVersion: group === '' ? version : `${group}/${version}`, kind, name: request.name, namespace, ...(uid === undefined ? {} : { uid }) };
  }
  const owners = Array.isArray(metadata?.ownerReferences) ? metadata.ownerReferences : [];
  const owner = owners.map(record).find((o) => o?.controller === true);
  if (owner === undefined || typeof owner.apiVersion !== 'string' || typeof owner.kind !== 'string' || typeof owner.name !== 'string') return undefined;
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.name,
    namespace,
    ...(typeof owner.uid === 'string' ? { uid: owner.uid } : {}),
  };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
