/**
 * Compiles one policy custom resource with the keys of the Secrets it names. The compiler reads
 * Secrets synchronously; a Secret it asks for that is not watched yet is watched, its first list
 * awaited, and the policy compiled again, so no policy is refused for a Secret merely not read yet.
 */
import { SigwardError, describeError } from '../errors.js';
import { PolicyError, parsePolicy, type CompiledPolicy, type SecretKeyRef } from '../policy/index.js';
import { policyWhere, withSecretNamespaces, type PolicyObjectMeta } from './policy-doc.js';
import type { Outcome } from './policy-status.js';
import { SecretKeys } from './secrets.js';

export interface Compiled {
  readonly outcome: Outcome;
  /** The compiled policy when the outcome is ok. */
  readonly policy: CompiledPolicy | undefined;
  /** `namespace/name` of every Secret the compiler read. */
  readonly secrets: ReadonlySet<string>;
}

export interface CompileContext {
  readonly secrets: SecretKeys;
  /** Default namespace of a ClusterImagePolicy's `secretRef`. */
  readonly ownNamespace: string;
  /** The generation of this object's last good version, for the status message. */
  readonly lastGoodGeneration: number | undefined;
}

export async function compileObject(object: unknown, meta: PolicyObjectMeta, context: CompileContext): Promise<Compiled> {
  const where = policyWhere(meta);
  const doc = withSecretNamespaces(object, meta, context.ownNamespace);
  for (let pass = 0; ; pass++) {
    const used = new Set<string>();
    const resolveKey = (ref: SecretKeyRef): string | undefined => {
      // One namespace must not borrow another's keys (or learn what its Secrets hold).
      if (meta.kind === 'ImagePolicy' && ref.namespace !== meta.namespace) {
        throw new SigwardError('POLICY_INVALID', `an ImagePolicy may read Secrets of its own namespace (${meta.namespace ?? ''}) only`);
      }
      used.add(SecretKeys.secretOf(ref));
      return context.secrets.read(ref);
    };
    let compiled: Compiled;
    try {
      // A Secret that is gone or holds no key revokes its authority at once; only a problem in the
      // policy object itself keeps the last good version in force.
      const pullSecretNamespace = meta.kind === 'ImagePolicy' ? meta.namespace ?? '' : context.ownNamespace;
      const policy = parsePolicy(doc, where, { resolveKey, revokeUnreadableSecrets: true, pullSecretNamespace });
      const revoked = policy.revoked ?? [];
      const outcome: Outcome = revoked.length === 0
        ? { ok: true, authorities: policy.authorities.length }
        : { ok: false, problems: revoked.map((r) => r.reason), lastGoodGeneration: undefined, revoked: revoked.map((r) => r.authority) };
      compiled = { outcome, policy, secrets: used };
    } catch (err) {
      const problems = err instanceof PolicyError ? err.problems : [describeError(err)];
      compiled = { outcome: { ok: false, problems, lastGoodGeneration: context.lastGoodGeneration }, policy: undefined, secrets: used };
    }
    if (context.secrets.known(used) || pass >= 2) return compiled;
    await context.secrets.ensure(used);
  }
}
