import { parsePublicKey } from '../crypto/keys.js';
import type { PublicKey } from '../crypto/types.js';
import { describeError, isSigwardError } from '../errors.js';
import type { KeyResolver, KeySource, SecretKeyRef } from './types.js';

export interface KeyOptions {
  /** Reads `secretRef` entries (keys, trusted roots); only a cluster has one. */
  readonly resolveKey?: KeyResolver;
  /**
   * In a cluster: an authority whose Secret is gone or holds no usable key is revoked (it fails,
   * saying why) instead of failing the whole policy, so a deleted key stops counting at once.
   */
  readonly revokeUnreadableSecrets?: boolean;
  /** Where `signaturePullSecrets` are read: a ClusterImagePolicy's from sigward's namespace, an ImagePolicy's from its own. */
  readonly pullSecretNamespace?: string;
}

/**
 * A key, or the problem with it at `key.data` or `key.secretRef`. `revocable`: the Secret the
 * policy names is gone or holds no usable key, a state of the cluster rather than of the policy.
 */
export type KeyResult = { readonly key: PublicKey } | { readonly field: 'data' | 'secretRef'; readonly problem: string; readonly revocable?: boolean };

/**
 * Turns an authority's key source into a public key. A Secret's key is read through the
 * resolver at compile time, so a rotated Secret takes effect when the policy is compiled again
 * (and changes the policy identity, which holds the key ids).
 */
export function loadKey(source: KeySource, options: KeyOptions): KeyResult {
  if ('data' in source) return parse(source.data, 'data');
  const secret = readSecret(source.secretRef, options);
  if ('problem' in secret) return { field: 'secretRef', problem: secret.problem, revocable: secret.revocable };
  const parsed = parse(secret.text, 'secretRef', secret.origin);
  return 'problem' in parsed ? { ...parsed, revocable: true } : parsed;
}

/** The text of one Secret entry, or why it cannot be had (never the text itself in a message). */
export function readSecret(
  ref: SecretKeyRef,
  options: KeyOptions,
): { readonly text: string; readonly origin: string } | { readonly problem: string; readonly revocable: boolean } {
  const { name, namespace, key } = ref;
  if (options.resolveKey === undefined) return { problem: 'Secrets can only be read in a cluster', revocable: false };
  let text: string | undefined;
  try {
    text = options.resolveKey(ref);
  } catch (err) {
    // The resolver refuses what the policy may not name (another namespace's Secret): the policy's fault.
    return { problem: `Secret ${namespace}/${name} cannot be read: ${describeError(err)}`, revocable: false };
  }
  if (text === undefined) return { problem: `Secret ${namespace}/${name} has no key ${key} (or does not exist)`, revocable: true };
  return { text, origin: `Secret ${namespace}/${name} key ${key}` };
}

/** parsePublicKey says what is wrong ("not a PEM public key", "RSA key of 1024 bits …");
 * `origin` names where the PEM came from when it is not the field itself. */
function parse(pem: string, field: 'data' | 'secretRef', origin?: string): KeyResult {
  try {
    return { key: parsePublicKey(pem) };
  } catch (err) {
    if (!isSigwardError(err)) throw err;
    return { field, problem: origin === undefined ? err.message : `${origin}: ${err.message}` };
  }
}
