/**
 * cosign's KEYLESS flags, shared by `verify` and `verify-blob`, made into the same keyless
 * authority a policy's `keyless` compiles to. The sigstore code is loaded only when they are used.
 */
import { readTextFile } from '../config.js';
import { describeError, SigwardError } from '../errors.js';
import type { KeylessAuthority, TrustedRoot } from '../sigstore/types.js';
import type { Authority } from '../verify/types.js';

export const KEYLESS_OPTIONS = {
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'trusted-root': { type: 'string' },
  'insecure-ignore-sct': { type: 'boolean' },
} as const;

/** The flags that ask for keyless verification (`--trusted-root` alone does not: verify-blob --key reads it too). */
const KEYLESS_FLAGS = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp', 'insecure-ignore-sct'] as const;

/** The KEYLESS flags as read, before the trusted root is loaded (the sigstore code loads only for them). */
export interface KeylessFlags {
  readonly identity: { readonly subject: string } | { readonly subjectRegExp: string };
  readonly issuer: { readonly issuer: string } | { readonly issuerRegExp: string };
  /** Undefined: the public-good trusted root sigward ships. */
  readonly trustedRootFile: string | undefined;
  readonly ignoreSct: boolean;
}

/**
 * cosign's KEYLESS flags: one identity flag and one issuer flag. A regexp is JavaScript syntax,
 * compiled on its own first and anchored to the whole value (cosign's are unanchored); one that
 * does not compile is a usage error. Without `--trusted-root`, the public-good root sigward ships.
 */
export function readKeyless(values: Record<string, unknown>): KeylessFlags | undefined {
  const get = (flag: string): string | undefined => values[flag] as string | undefined;
  if (!KEYLESS_FLAGS.some((flag) => values[flag] !== undefined)) return undefined;
  const one = (exact: string, regexp: string, what: string): { exact: string } | { regexp: string } => {
    const [e, r] = [get(exact), get(regexp)];
    if ((e === undefined) === (r === undefined)) throw new SigwardError('USAGE', `keyless verification needs exactly one of --${exact} and --${regexp} (${what})`);
    if (e !== undefined) {
      if (e === '') throw new SigwardError('USAGE', `--${exact}: must not be empty`);
      return { exact: e };
    }
    try {
      new RegExp(r!, 'u');
    } catch {
      throw new SigwardError('USAGE', `--${regexp}: not a regular expression on its own: ${r!.slice(0, 200)}`);
    }
    return { regexp: r! };
  };
  const identity = one('certificate-identity', 'certificate-identity-regexp', 'the certificate\'s subject');
  const issuer = one('certificate-oidc-issuer', 'certificate-oidc-issuer-regexp', 'the OIDC issuer');
  const trustedRootFile = get('trusted-root');
  return {
    identity: 'exact' in identity ? { subject: identity.exact } : { subjectRegExp: identity.regexp },
    issuer: 'exact' in issuer ? { issuer: issuer.exact } : { issuerRegExp: issuer.regexp },
    trustedRootFile,
    ignoreSct: values['insecure-ignore-sct'] === true,
  };
}

/** The keyless authority, with its trusted root read now (the sigstore code is loaded only here). */
export async function keylessAuthority(flags: KeylessFlags): Promise<Authority & { readonly keyless: KeylessAuthority }> {
  const trustedRoot = await trustedRootFrom(flags.trustedRootFile);
  const name = 'subject' in flags.identity ? flags.identity.subject : `/${flags.identity.subjectRegExp}/`;
  return { name, keyless: { kind: 'keyless', ...flags.identity, ...flags.issuer, trustedRoot, ...(flags.ignoreSct ? { ignoreSct: true } : {}) } };
}

/** `--trusted-root FILE`, else the public-good root sigward ships. */
export async function trustedRootFrom(file: string | undefined): Promise<TrustedRoot> {
  const { parseTrustedRoot, shippedTrustedRoot } = await import('../sigstore/index.js');
  if (file === undefined) return shippedTrustedRoot().root;
  const text = readTextFile(file, 'trusted root');
  try {
    return parseTrustedRoot(text);
  } catch (err) {
    throw new SigwardError('FILE_UNREADABLE', `--trusted-root ${file}: ${describeError(err)}`, { cause: err });
  }
}
