import { createHash } from 'node:crypto';
import { credentialsFromDockerConfigJson } from '../credentials/docker-config.js';
import type { StaticCredentials } from '../credentials/types.js';
import { describeError, isSigwardError } from '../errors.js';
import { readSecret, type KeyOptions } from './keys.js';

/** The entries a docker config Secret keeps its config under, by type. */
const CONFIG_KEYS = ['.dockerconfigjson', '.dockercfg'] as const;

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
  const providers: StaticCredentials[] = [];
  const hash = createHash('sha256');
  for (const name of names) {
    let found: { text: string; key: string } | undefined;
    for (const key of CONFIG_KEYS) {
      const read = readSecret({ name, namespace, key }, options);
      if ('text' in read) {
        found = { text: read.text, key };
        break;
      }
      if (!read.revocable) return read;
    }
    if (found === undefined) return { problem: `Secret ${namespace}/${name} holds no ${CONFIG_KEYS.join(' or ')} (or does not exist)`, revocable: true };
    try {
      providers.push(credentialsFromDockerConfigJson(found.text, `Secret ${namespace}/${name}`));
    } catch (err) {
      if (!isSigwardError(err)) throw err;
      return { problem: describeError(err), revocable: true };
    }
    hash.update(`${name}\n${found.key}\n${found.text}\n`);
  }
  const provider: StaticCredentials = (registry) => {
    for (const lookup of providers) {
      const credential = lookup(registry);
      if (credential !== undefined) return credential;
    }
    return undefined;
  };
  return { credentials: { provider, scope: `pull:${hash.digest('hex').slice(0, 16)}` } };
}
