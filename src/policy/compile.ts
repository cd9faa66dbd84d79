import { createHash } from 'node:crypto';
import type { PublicKey } from '../crypto/types.js';
import { parseRepository } from '../reference/index.js';
import type { Authority } from '../verify/types.js';
import { compileGlob } from './glob.js';
import { type KeyOptions, loadKey } from './keys.js';
import { policyInvalid } from './problems.js';
import { compileSelector } from './selector.js';
import type { AuthoritySpec, CompiledPolicy, PolicySpec } from './types.js';
import { type PolicyOptions, validatePolicy } from './validate.js';

/**
 * Compiles a validated policy for matching and verification: globs to anchored regexes, the
 * namespace selector to a predicate, keys to public keys (a `secretRef` read now through
 * `options.resolveKey`). Throws a PolicyError (POLICY_INVALID) when a key cannot be loaded,
 * for instance when a Secret changed since validation.
 *
 * The identity is the cache key for verdicts under this policy: `uid:generation:<key ids>` for
 * a custom resource (the apiserver bumps generation on every spec edit; the key ids change when
 * a referenced Secret is rotated, which does not touch the generation), else the sha256 of the
 * canonical JSON of the spec and key ids. Either way an edited policy is a new cache key at once.
 */
export function compilePolicy(spec: PolicySpec, options: KeyOptions = {}): CompiledPolicy {
  const problems: string[] = [];
  const keys = spec.authorities.map((authority, i) => {
    const loaded = loadKey(authority.key, options);
    if ('problem' in loaded) problems.push(`spec.authorities[${i}].key.${loaded.field}: ${loaded.problem}`);
    return 'key' in loaded ? loaded.key : undefined;
  });
  const present = keys.filter((key) => key !== undefined);
  if (problems.length > 0 || present.length !== keys.length) throw policyInvalid(spec.source, problems);
  return {
    kind: spec.kind,
    name: spec.name,
    namespace: spec.namespace,
    identity: identityOf(spec, present),
    mode: spec.mode,
    threshold: spec.threshold,
    authorities: spec.authorities.map((authority, i) => toAuthority(authority, present[i]!)),
    globs: spec.images.map(compileGlob),
    namespaceSelector: compileSelector(spec.namespaceSelector),
    source: spec.source,
  };
}

/** validatePolicy then compilePolicy: a document as read from a file or the apiserver. */
export function parsePolicy(doc: unknown, where: string, options: PolicyOptions = {}): CompiledPolicy {
  return compilePolicy(validatePolicy(doc, where, options), options);
}

function toAuthority(spec: AuthoritySpec, key: PublicKey): Authority {
  return {
    name: spec.name,
    key,
    ...(spec.signatureRepository === undefined ? {} : { signatureRepository: parseRepository(spec.signatureRepository) }),
    ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
  };
}

function identityOf(spec: PolicySpec, keys: readonly PublicKey[]): string {
  const keyIds = keys.map((key) => key.id);
  if (spec.uid !== undefined && spec.generation !== undefined) {
    return `${spec.uid}:${spec.generation}:${sha256(keyIds.join(',')).slice(0, 16)}`;
  }
  const { kind, name, namespace, images, mode, threshold, namespaceSelector, authorities } = spec;
  const content = { kind, name, namespace, images, mode, threshold, namespaceSelector, authorities, keyIds };
  return `sha256:${sha256(canonicalJson(content))}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** JSON with object keys sorted, so equal content gives equal text whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
