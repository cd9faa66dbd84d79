import { verifySignature } from '../crypto/verify.js';
import { SigwardError } from '../errors.js';
import type { SignedContent } from './content.js';
import { sha256 } from './keys.js';
import { verifyEntryBody } from './tlog/body.js';
import { verifyTlogInclusion } from './tlog/inclusion.js';
import type { BundleProof, KeyAuthority, RekorTrust, SigstoreBundle, TransparencyLog } from './types.js';

/**
 * Verifies a bundle against a key authority, as `cosign verify --key` does with sigstore-go
 * (`WithKey`, no observer timestamps: a key needs no signing time). The key is the trust
 * anchor: the bundle's `publicKey.hint` is informational and is not consulted. With `rekor`
 * every log entry must be proven by those logs and record this signature; without it, the
 * entries are not read at all (`--insecure-ignore-tlog`), so a bundle signed offline verifies.
 */
export function verifyWithKey(bundle: SigstoreBundle, content: SignedContent, authority: KeyAuthority): BundleProof {
  if (!verifySignature(authority.key, content.bytes, content.signature)) {
    throw new SigwardError('SIGNATURE_INVALID', `signature does not verify with key ${authority.key.id}`);
  }
  const signer = { kind: 'key', keyId: authority.key.id } as const;
  if (authority.rekor === undefined) return { signer, signingTimes: [], logIndexes: [] };
  const included = verifyTlogInclusion(bundle.tlogEntries, rekorLogs(authority.rekor));
  for (const { entry, index } of included) verifyEntryBody(entry, index, content, { spki: authority.key.spki });
  return {
    signer,
    signingTimes: included.flatMap((entry) => (entry.integratedTime ? [entry.integratedTime] : [])),
    logIndexes: included.map(({ entry }) => entry.logIndex),
  };
}

/** Rekor keys given alone are Rekor v1 logs: their log ID is the SHA-256 of the key's SPKI. */
function rekorLogs(rekor: RekorTrust): readonly TransparencyLog[] {
  if (!('publicKeys' in rekor)) return rekor.tlogs;
  return rekor.publicKeys.map((key) => {
    const logId = sha256(key.spki);
    return { baseUrl: `rekor key ${key.id}`, logId, checkpointKeyId: logId, key };
  });
}
