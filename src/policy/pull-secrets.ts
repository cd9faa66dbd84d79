import { configCredential, firstOf, PULL_SECRET_TYPES, scopeOf, type PullCredential } from '../credentials/pull-secrets.js';
import type { StaticCredentials } from '../credentials/types.js';
import { describeError, isSigwardError } from '../errors.js';
import { readSecret, type KeyOptions } from './keys.js';

export type PullSecretsResult =
  | { readonly credentials: { readonly provider: StaticCredentials; readonly scope: string } | undefined }
  | { readonly problem: string; readonly revocable: boolean };

/**
 * An authority's `signaturePullSecrets`, read now (as keys are) from the policy's namespace:
 * each a `kubernetes.io/dockerconfigjson` or `kubernetes.io/dockercfg` Secret, tried in order.
 * `scope` names their content, so a rotated Secret changes the policy identity and the cache
 * keys of what was learned with it. A Secret that is gone or holds no readable config revokes
 * the authority (it fails, saying why), as a key Secret does.
 */
export function loadSignaturePullSecrets(names: readonly string[], options: KeyOptions): PullSecretsResult {
  if (names.length === 0) return { credentials: undefined };
  const namespace = options.pullSecretNamespace;
  if (options.resolveKey === undefined || namespace === undefined) return { problem: 'Secrets can only be read in a cluster', revocable: false };
  const formats = Object.values(PULL_SECRET_TYPES);
  const found: PullCredential[] = [];
  for (const name of names) {
    let credential: PullCredential | undefined;
    for (const format of formats) {
      const read = readSecret({ name, namespace, key: format.key }, options);
      if (!('text' in read)) {
        if (!read.revocable) return read;
        continue;
      }
      try {
        credential = configCredential(format.type, read.text, `Secret ${namespace}/${name}`);
      } catch (err) {
        if (!isSigwardError(err)) throw err;
        return { problem: describeError(err), revocable: true };
      }
      break;
    }
    if (credential === undefined) {
      return { problem: `Secret ${namespace}/${name} holds no ${formats.map((f) => f.key).join(' or ')} (or does not exist)`, revocable: true };
    }
    found.push(credential);
  }
  return { credentials: { provider: firstOf(found.map((c) => c.provider))!, scope: scopeOf(found.map((c) => c.fingerprint), 'pull') } };
}
