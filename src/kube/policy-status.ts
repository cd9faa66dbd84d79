/**
 * The Ready condition of a policy's status, as sigward last compiled it. Written with a JSON
 * merge patch to the status subresource (the spec is the user's; only status is sigward's), and
 * only when it differs from what the object already says, so writing it causes no further work.
 */
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeClients } from './client.js';
import { POLICY_RESOURCES, READY } from './constants.js';

export interface ReadyCondition {
  readonly type: typeof READY.type;
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
  readonly lastTransitionTime: string;
}

export interface PolicyObjectRef {
  readonly kind: 'ClusterImagePolicy' | 'ImagePolicy';
  readonly name: string;
  readonly namespace: string | undefined;
}

export type Outcome =
  | { readonly ok: true; readonly authorities: number }
  | {
      readonly ok: false;
      readonly problems: readonly string[];
      readonly lastGoodGeneration: number | undefined;
      /** In force, with these authorities failing: their Secrets are gone or hold no key. */
      readonly revoked?: readonly string[];
    };

/** The condition for an outcome; the transition time is kept when the status did not change. */
export function readyCondition(outcome: Outcome, generation: number, previous: unknown, now: Date): ReadyCondition {
  const status = outcome.ok ? 'True' : 'False';
  const before = currentReady(previous);
  const lastTransitionTime = before?.status === status && typeof before.lastTransitionTime === 'string'
    ? before.lastTransitionTime
    : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    type: READY.type,
    status,
    reason: outcome.ok ? READY.compiled : outcome.revoked !== undefined ? READY.revoked : READY.invalid,
    message: bounded(outcome.ok ? `compiled: ${outcome.authorities} ${outcome.authorities === 1 ? 'authority' : 'authorities'}` : invalidMessage(outcome)),
    observedGeneration: generation,
    lastTransitionTime,
  };
}

/** Whether the object's status already says this (type, status, reason, message, generation). */
export function statusSays(previous: unknown, condition: ReadyCondition): boolean {
  const before = currentReady(previous);
  return before !== undefined && before.status === condition.status && before.reason === condition.reason &&
    before.message === condition.message && before.observedGeneration === condition.observedGeneration;
}

export async function writeReady(clients: KubeClients, ref: PolicyObjectRef, condition: ReadyCondition): Promise<void> {
  const body = { status: { observedGeneration: condition.observedGeneration, conditions: [condition] } };
  const { group, version } = POLICY_RESOURCES;
  const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  if (ref.kind === 'ClusterImagePolicy') {
    await clients.custom.patchClusterCustomObjectStatus({ group, version, plural: POLICY_RESOURCES.cluster.plural, name: ref.name, body }, options);
  } else {
    const namespace = ref.namespace ?? '';
    await clients.custom.patchNamespacedCustomObjectStatus(
      { group, version, namespace, plural: POLICY_RESOURCES.namespaced.plural, name: ref.name, body },
      options,
    );
  }
}

/**
 * Fail-safe: an edit that cannot be compiled does not take the policy's enforcement away. The
 * message says which version stays in force, so the person who made the edit knows it did not apply.
 */
function invalidMessage(outcome: Extract<Outcome, { ok: false }>): string {
  const problems = outcome.problems.join('; ');
  if (outcome.revoked !== undefined) {
    return `${problems}; authorities ${outcome.revoked.join(', ')} are revoked and fail until their Secret holds a key again`;
  }
  if (outcome.lastGoodGeneration === undefined) return `${problems}; the policy is not enforced`;
  return `${problems}; generation ${outcome.lastGoodGeneration}, the last valid one, stays in force`;
}

function bounded(message: string): string {
  return message.length > READY.maxMessage ? `${message.slice(0, READY.maxMessage - 1)}…` : message;
}

interface SeenCondition {
  readonly status?: unknown;
  readonly reason?: unknown;
  readonly message?: unknown;
  readonly observedGeneration?: unknown;
  readonly lastTransitionTime?: unknown;
}

function currentReady(status: unknown): SeenCondition | undefined {
  if (typeof status !== 'object' || status === null) return undefined;
  const conditions = (status as { conditions?: unknown }).conditions;
  if (!Array.isArray(conditions)) return undefined;
  const found: unknown = conditions.find((c: unknown) => typeof c === 'object' && c !== null && (c as { type?: unknown }).type === READY.type);
  return found as SeenCondition | undefined;
}
