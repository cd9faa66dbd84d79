import { createHash } from 'node:crypto';
import { compileAuthority, type CompiledAuthority } from './compile-authority.js';
import { compileGlob } from './glob.js';
import type { KeyOptions } from './keys.js';
import { policyInvalid } from './problems.js';
import { compileSelector } from './selector.js';
import type { Authority } from '../verify/types.js';
import type { CompiledPolicy, PolicySpec } from './types.js';
import { type PolicyOptions, validatePolicy } from './validate.js';

/**
 * Compiles a validated policy for matching and verification: globs to anchored regexes, the
 * namespace selector to a predicate, keys to public keys and trusted roots to trust material (a
 * `secretRef` read now through `options.resolveKey`). Throws a PolicyError (POLICY_INVALID)
 * when trust material cannot be loaded, for instance when a Secret changed since validation.
 *
 * The identity is the cache key for verdicts under this policy: the sha256 of the canonical JSON
 * of the spec (keyless identities, Rekor keys and inline roots included) and the trust ids (key
 * ids and trusted root digests, which change when a referenced Secret is rotated without the
 * generation moving), prefixed with `uid:generation:` for a custom resource. An edited policy is
 * a new cache key at once.
 */
export function compilePolicy(spec: PolicySpec, options: KeyOptions = {}): CompiledPolicy {
  const compiled = spec.authorities.map((authority, i) => compileAuthority(authority, `spec.authorities[${i}]`, options));
  const revocable = (result: CompiledAuthority): boolean => 'problems' in result && result.fromSecret && options.revokeUnreadableSecrets === true;
  const problems = compiled.flatMap((result) => ('problems' in result && !revocable(result) ? result.problems : []));
  const authorities = compiled.flatMap((result) => ('authority' in result ? [result] : []));
  if (problems.length > 0) throw policyInvalid(spec.source, problems);
  const revoked = compiled.flatMap((result, i) =>
    'problems' in result ? [{ authority: spec.authorities[i]?.name ?? `#${i}`, reason: result.problems.join('; ') }] : []);
  const duplicates = duplicateSigners(authorities);
  if (duplicates.length > 0) throw policyInvalid(spec.source, duplicates);
  return {
    kind: spec.kind,
    name: spec.name,
    namespace: spec.namespace,
    identity: identityOf(spec, [...authorities.flatMap((result) => result.trust), ...revoked.map((r) => `revoked:${r.authority}`)]),
    mode: spec.mode,
    threshold: spec.threshold,
    platforms: spec.platforms,
    authorities: authorities.map((result) => result.authority),
    ...(revoked.length > 0 ? { revoked } : {}),
    globs: spec.images.map(compileGlob),
    namespaceSelector: compileSelector(spec.namespaceSelector),
    source: spec.source,
  };
}

/**
 * Authorities that trust the same signer for the same thing: the same key (by its SPKI digest,
 * so two spellings of one PEM are one key) or the same keyless identity under the same trusted
 * root, asking for the same attestation or for plain signatures alike. A threshold counts
 * authorities, so such a pair would let one signature count twice.
 */
function duplicateSigners(authorities: readonly { readonly authority: Authority; readonly trust: readonly string[] }[]): string[] {
  const first = new Map<string, number>();
  const problems: string[] = [];
  authorities.forEach(({ authority, trust }, index) => {
    // A keyless authority's trust ids name its trusted root by digest: one identity under two roots is two signers.
    const signer = authority.keyless === undefined
      ? `key ${authority.key.id}`
      : `keyless ${JSON.stringify([authority.keyless.issuer, authority.keyless.subject ?? null, authority.keyless.subjectRegExp ?? null, trust])}`;
    const id = `${signer} for ${authority.attestation?.predicateType ?? 'signatures'}`;
    const earlier = first.get(id);
    if (earlier === undefined) first.set(id, index);
    else {
      const what = authority.keyless === undefined ? `the same key (${authority.key.id.slice(0, 12)})` : 'the same keyless identity';
      problems.push(`spec.authorities[${index}]: ${what} as spec.authorities[${earlier}]; a threshold counts distinct signers, so each authority needs its own key or identity`);
    }
  });
  return problems;
}

/** validatePolicy then compilePolicy: a document as read from a file or the apiserver. */
export function parsePolicy(doc: unknown, where: string, options: PolicyOptions = {}): CompiledPolicy {
  return compilePolicy(validatePolicy(doc, where, options), options);
}

/**
 * Always a hash of the whole spec and the trust material; for a custom resource prefixed with
 * uid and generation. The hash is never left out: two policy files may carry the same
 * `metadata.uid` and `generation` (copied, or made up) and must still not share verdicts.
 */
function identityOf(spec: PolicySpec, trust: readonly string[]): string {
  const { kind, name, namespace, images, mode, threshold, namespaceSelector, platforms, authorities } = spec;
  const content = { kind, name, namespace, images, mode, threshold, namespaceSelector, platforms, authorities, keyIds: trust };
  const digest = `sha256:${sha256(canonicalJson(content))}`;
  return spec.uid !== undefined && spec.generation !== undefined ? `${spec.uid}:${spec.generation}:${digest}` : digest;
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
