import { SigwardError } from '../errors.js';
import type { KeylessAuthority } from './types.js';

/** The identity a Fulcio certificate states, as @sigstore/verify reads it from the leaf. */
export interface CertificateIdentity {
  /** The OIDC issuer: extension 1.3.6.1.4.1.57264.1.8, else the older 1.3.6.1.4.1.57264.1.1. */
  readonly issuer?: string;
  /** The subject alternative name: a URI (workflow identity) or an email address. */
  readonly subject?: string;
}

/**
 * Builds the identity check of a keyless authority (before any crypto, so a malformed policy
 * fails at once): the issuer exactly, the subject exactly or by a regular expression that must
 * match all of it. Anchoring matters: `subjectRegExp: https://github.com/acme/.*` must not admit
 * `https://evil.example/?https://github.com/acme/x`.
 */
export function identityCheck(authority: KeylessAuthority): (identity: CertificateIdentity) => { issuer: string; subject: string } {
  const matches = subjectMatcher(authority);
  const issuerMatches = issuerMatcher(authority);
  return (identity) => {
    if (identity.issuer === undefined || !issuerMatches(identity.issuer)) {
      const wanted = authority.issuer ?? `/${authority.issuerRegExp ?? ''}/`;
      throw new SigwardError('ISSUER_MISMATCH', `certificate issuer is ${identity.issuer ?? '(none)'}, not ${wanted}`);
    }
    if (identity.subject === undefined || !matches(identity.subject)) {
      const wanted = authority.subject ?? `/${authority.subjectRegExp ?? ''}/`;
      throw new SigwardError('IDENTITY_MISMATCH', `certificate subject is ${identity.subject ?? '(none)'}, not ${wanted}`);
    }
    return { issuer: identity.issuer, subject: identity.subject };
  };
}

function issuerMatcher(authority: KeylessAuthority): (issuer: string) => boolean {
  const { issuer, issuerRegExp } = authority;
  if ((issuer === undefined) === (issuerRegExp === undefined)) {
    throw new SigwardError('POLICY_INVALID', 'a keyless authority needs exactly one of issuer and issuerRegExp');
  }
  if (issuer !== undefined) return (candidate) => candidate === issuer;
  const pattern = subjectPattern(issuerRegExp ?? '', 'issuerRegExp');
  return (candidate) => pattern.test(candidate);
}

function subjectMatcher(authority: KeylessAuthority): (subject: string) => boolean {
  const { subject, subjectRegExp } = authority;
  if ((subject === undefined) === (subjectRegExp === undefined)) {
    throw new SigwardError('POLICY_INVALID', 'a keyless authority needs exactly one of subject and subjectRegExp');
  }
  if (subject !== undefined) return (candidate) => candidate === subject;
  const pattern = subjectPattern(subjectRegExp ?? '');
  return (candidate) => pattern.test(candidate);
}

/**
 * A keyless authority's `subjectRegExp` as sigward matches it: anchored to the whole subject,
 * with Unicode semantics. Policies compile it with this same function when they are loaded, so
 * a pattern that loads is the pattern that is matched.
 */
export function subjectPattern(subjectRegExp: string, field = 'subjectRegExp'): RegExp {
  try {
    // Compiled alone first: a pattern that only parses once wrapped (`a)|(.*`) would close the
    // anchoring group itself and match anything.
    new RegExp(subjectRegExp, 'u');
    return new RegExp(`^(?:${subjectRegExp})$`, 'u');
  } catch (err) {
    throw new SigwardError('POLICY_INVALID', `${field} is not a regular expression: ${subjectRegExp}`, { cause: err });
  }
}
