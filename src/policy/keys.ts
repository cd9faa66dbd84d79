import { parsePublicKey } from '../crypto/keys.js';
import type { PublicKey } from '../crypto/types.js';
import { describeError, isSigwardError } from '../errors.js';
import type { KeyResolver, KeySource } from './types.js';

export interface KeyOptions {
  /** Reads `key.secretRef` keys; only a cluster has one. */
  readonly resolveKey?: KeyResolver;
}

/** A key, or the problem with it at `key.data` or `key.secretRef`. */
export type KeyResult = { readonly key: PublicKey } | { readonly field: 'data' | 'secretRef'; readonly problem: string };

/**
 * Turns an authority's key source into a public key. A Secret's key is read through the
 * resolver at compile time, so a rotated Secret takes effect when the policy is compiled again
 * (and changes the policy identity, which holds the key ids).
 */
export function loadKey(source: KeySource, options: KeyOptions): KeyResult {
  if ('data' in source) return parse(source.data, 'data');
  const { name, namespace, key } = source.secretRef;
  if (options.resolveKey === undefined) return { field: 'secretRef', problem: 'Secrets can only be read in a cluster' };
  let pem: string | undefined;
  try {
    pem = options.resolveKey(source.secretRef);
  } catch (err) {
    return { field: 'secretRef', problem: `Secret ${namespace}/${name} cannot be read: ${describeError(err)}` };
  }
  if (pem === undefined) return { field: 'secretRef', problem: `Secret ${namespace}/${name} has no key ${key} (or does not exist)` };
  return parse(pem, 'secretRef', `Secret ${namespace}/${name} key ${key}`);
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
