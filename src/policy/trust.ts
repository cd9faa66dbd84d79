import { createHash } from 'node:crypto';
import { parsePublicKey } from '../crypto/keys.js';
import type { PublicKey } from '../crypto/types.js';
import { describeError, isSigwardError } from '../errors.js';
import { parseTrustedRoot, shippedTrustedRoot, type TrustedRoot } from '../sigstore/index.js';
import { type KeyOptions, readSecret } from './keys.js';
import type { TrustedRootSource } from './types.js';

/** A parsed trusted root and the SHA-256 of its text (for the policy identity), or the problem at `data` or `secretRef`. */
export type TrustedRootResult =
  | { readonly root: TrustedRoot; readonly digest: string }
  | { readonly field: 'data' | 'secretRef'; readonly problem: string; readonly revocable?: boolean };

/**
 * Loads a keyless authority's `trusted_root.json`. It is parsed in full at load time, as keys
 * are, so a root sigward cannot use refuses the policy instead of failing every admission. A
 * root held in a Secret is read each time the policy is compiled; its digest enters the policy
 * identity, so rotating the Secret invalidates cached verdicts at once.
 */
export function loadTrustedRoot(source: TrustedRootSource, options: KeyOptions): TrustedRootResult {
  if ('data' in source) return parseRoot(source.data, 'data');
  const secret = readSecret(source.secretRef, options);
  if ('problem' in secret) return { field: 'secretRef', problem: secret.problem, revocable: secret.revocable };
  const parsed = parseRoot(secret.text, 'secretRef', secret.origin);
  return 'problem' in parsed ? { ...parsed, revocable: true } : parsed;
}

/** A Rekor log's PEM public key, or what is wrong with it. */
export function loadRekorKey(pem: string): { readonly key: PublicKey } | { readonly problem: string } {
  try {
    return { key: parsePublicKey(pem) };
  } catch (err) {
    if (!isSigwardError(err)) throw err;
    return { problem: err.message };
  }
}

function parseRoot(json: string, field: 'data' | 'secretRef', origin?: string): TrustedRootResult {
  try {
    return { root: parseTrustedRoot(json), digest: createHash('sha256').update(json).digest('hex') };
  } catch (err) {
    if (!isSigwardError(err)) throw err;
    return { field, problem: origin === undefined ? err.message : `${origin}: ${err.message}` };
  }
}

/** The public-good trusted root sigward ships, for a keyless authority that names none. */
export function shippedRoot(): TrustedRootResult {
  try {
    const { root, digest } = shippedTrustedRoot();
    return { root, digest };
  } catch (err) {
    return { field: 'data', problem: `no trustedRoot given, and the shipped one cannot be used: ${describeError(err)}` };
  }
}
