import { SigwardError } from '../errors.js';
import type { SignedContent } from './content.js';
import { verifyCertificatePath } from './certificate.js';
import { identityCheck } from './identity.js';
import { parseCertificate } from './keys.js';
import { verifyEntryBody } from './tlog/body.js';
import { verifyTlogInclusion } from './tlog/inclusion.js';
import type { BundleProof, KeylessAuthority, SigstoreBundle } from './types.js';

/**
 * Verifies a bundle against a keyless authority, in the order sigstore-go checks (cosign-spec
 * §2.4): the log entries are proven by the trusted root's Rekor logs, which yields trusted
 * integrated times; the certificate chains to Fulcio at those times (or at RFC 3161 times),
 * carries a valid SCT, and its key verifies the signature; each entry records this signature
 * and certificate; and the certificate names the authority's issuer and subject.
 */
export function verifyKeyless(
  bundle: SigstoreBundle,
  content: SignedContent,
  authority: KeylessAuthority,
  artifact?: Uint8Array,
): BundleProof {
  if (bundle.material.kind !== 'certificate') {
    throw new SigwardError('CERTIFICATE_INVALID', 'bundle is signed with a key (public-key hint), not a Fulcio certificate');
  }
  const leaf = bundle.material.certificate;
  const checkIdentity = identityCheck(authority);
  const included = verifyTlogInclusion(bundle.tlogEntries, authority.trustedRoot.tlogs);
  const certificate = verifyCertificatePath(bundle, content, included, authority.trustedRoot, artifact, { ignoreSct: authority.ignoreSct === true });
  const spki = new Uint8Array(parseCertificate(leaf).publicKey.export({ type: 'spki', format: 'der' }));
  for (const { entry, index } of included) verifyEntryBody(entry, index, content, { spki, certificate: leaf });
  const identity = checkIdentity(certificate.identity);
  return {
    signer: { kind: 'keyless', ...identity },
    signingTimes: certificate.signingTimes,
    logIndexes: included.map(({ entry }) => entry.logIndex),
  };
}
