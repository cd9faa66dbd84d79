import { parseRepository } from '../reference/index.js';
import type { Authority } from '../verify/types.js';
import { type KeyOptions, loadKey } from './keys.js';
import { loadSignaturePullSecrets } from './pull-secrets.js';
import { loadRekorKey, loadTrustedRoot, shippedRoot } from './trust.js';
import type { AuthoritySpec, KeylessAuthoritySpec } from './types.js';

/** An authority ready to verify with, and the ids of the trust material it holds (for the policy identity). */
export type CompiledAuthority =
  | { readonly authority: Authority; readonly trust: readonly string[] }
  /** `fromSecret`: the only problem is a Secret the authority reads (gone, or holding no usable key). */
  | { readonly problems: readonly string[]; readonly fromSecret: boolean };

/**
 * Loads an authority's trust material (key, Rekor key, trusted root; Secrets read now) and
 * builds the verifier's authority. `trust` names that material by content (key ids, the
 * trusted root's SHA-256), so a rotated Secret yields a new policy identity even when the
 * custom resource's generation did not move.
 */
export function compileAuthority(spec: AuthoritySpec, path: string, options: KeyOptions): CompiledAuthority {
  const pull = loadSignaturePullSecrets(spec.signaturePullSecrets ?? [], options);
  if ('problem' in pull) return { problems: [`${path}.signaturePullSecrets: ${pull.problem}`], fromSecret: pull.revocable };
  const compiled = compileSigner(spec, path, options);
  if ('problems' in compiled || pull.credentials === undefined) return compiled;
  return {
    authority: { ...compiled.authority, signatureCredentials: pull.credentials },
    trust: [...compiled.trust, pull.credentials.scope],
  };
}

function compileSigner(spec: AuthoritySpec, path: string, options: KeyOptions): CompiledAuthority {
  const common = {
    name: spec.name,
    ...(spec.signatureRepository === undefined ? {} : { signatureRepository: parseRepository(spec.signatureRepository) }),
    ...(spec.annotations === undefined ? {} : { annotations: spec.annotations }),
    ...(spec.attestations?.[0] === undefined ? {} : { attestation: { predicateType: spec.attestations[0].predicateType } }),
  };
  if (spec.keyless !== undefined) return compileKeyless(spec, path, options, common);
  const loaded = loadKey(spec.key, options);
  if ('problem' in loaded) return { problems: [`${path}.key.${loaded.field}: ${loaded.problem}`], fromSecret: loaded.revocable === true };
  if (spec.rekor === undefined) return { authority: { ...common, key: loaded.key }, trust: [loaded.key.id] };
  const rekor = loadRekorKey(spec.rekor.publicKey);
  if ('problem' in rekor) return { problems: [`${path}.rekor.publicKey: ${rekor.problem}`], fromSecret: false };
  return {
    authority: { ...common, key: loaded.key, rekor: { publicKeys: [rekor.key] } },
    trust: [loaded.key.id, `rekor:${rekor.key.id}`],
  };
}

function compileKeyless(spec: KeylessAuthoritySpec, path: string, options: KeyOptions, common: Omit<Authority, 'key' | 'keyless' | 'rekor'>): CompiledAuthority {
  const { issuer, subject, subjectRegExp, trustedRoot } = spec.keyless;
  const loaded = trustedRoot === undefined ? shippedRoot() : loadTrustedRoot(trustedRoot, options);
  if ('problem' in loaded) return { problems: [`${path}.keyless.trustedRoot.${loaded.field}: ${loaded.problem}`], fromSecret: loaded.revocable === true };
  const keyless = {
    kind: 'keyless',
    issuer,
    ...(subject === undefined ? {} : { subject }),
    ...(subjectRegExp === undefined ? {} : { subjectRegExp }),
    trustedRoot: loaded.root,
  } as const;
  return { authority: { ...common, keyless }, trust: [`trusted-root:${loaded.digest}`] };
}
