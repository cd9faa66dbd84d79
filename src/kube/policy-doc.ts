/**
 * What the policy compiler is given for a custom resource: the object as the API server holds
 * it, with the defaults the CRD documents for `secretRef.namespace` filled in (the compiler,
 * which also reads policy files, requires it written out).
 */
import type { PolicyKind } from '../policy/index.js';

export interface PolicyObjectMeta {
  readonly kind: PolicyKind;
  readonly name: string;
  readonly namespace: string | undefined;
}

/** Where a policy is named in messages and logs: `ClusterImagePolicy acme`, `ImagePolicy team-a/app`. */
export function policyWhere(meta: PolicyObjectMeta): string {
  return meta.kind === 'ClusterImagePolicy' ? `ClusterImagePolicy ${meta.name}` : `ImagePolicy ${meta.namespace ?? ''}/${meta.name}`;
}

/**
 * A copy of `object` in which every `secretRef` under `spec.authorities` that names no
 * namespace names the default one: an ImagePolicy's own namespace, or sigward's own namespace
 * for a ClusterImagePolicy. Nothing else changes; the compiler validates the rest.
 */
export function withSecretNamespaces(object: unknown, meta: PolicyObjectMeta, ownNamespace: string): unknown {
  const fallback = meta.kind === 'ImagePolicy' ? meta.namespace : ownNamespace;
  if (fallback === undefined || !isRecord(object) || !isRecord(object.spec) || !Array.isArray(object.spec.authorities)) return object;
  const authorities = object.spec.authorities.map((authority: unknown) => fill(authority, fallback, 0));
  return { ...object, spec: { ...object.spec, authorities } };
}

/** Depth-bounded: a document nested deeper than any policy field is left to the compiler to refuse. */
function fill(value: unknown, namespace: string, depth: number): unknown {
  if (depth > 8) return value;
  if (Array.isArray(value)) return value.map((item: unknown) => fill(item, namespace, depth + 1));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (key === 'secretRef' && isRecord(child) && (child.namespace === undefined || child.namespace === '')) {
      out[key] = { ...child, namespace };
    } else {
      out[key] = fill(child, namespace, depth + 1);
    }
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
