import { readKeyFile, readTextFile, registryOptions, REGISTRY_FLAGS, type RegistryFlagValues } from '../config.js';
import { SigwardError, describeError, errorCode } from '../errors.js';
import { parseReference, parseRepository, formatReference } from '../reference/index.js';
import type { ImageReference } from '../reference/types.js';
import { RegistryClient } from '../registry/index.js';
import { Verifier } from '../verify/verifier.js';
import type { Authority, AuthorityVerdict } from '../verify/types.js';
import { keyValues, onePositional, parse, type Io } from './args.js';

export const VERIFY_FLAGS = {
  ...REGISTRY_FLAGS,
  key: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  'signature-repository': { type: 'string' },
  annotation: { type: 'string', multiple: true },
  output: { type: 'string', default: 'text' },
  'certificate-identity': { type: 'string' },
  'certificate-identity-regexp': { type: 'string' },
  'certificate-oidc-issuer': { type: 'string' },
  'certificate-oidc-issuer-regexp': { type: 'string' },
  'trusted-root': { type: 'string' },
  'insecure-ignore-sct': { type: 'boolean' },
} as const;

const KEYLESS_FLAGS = ['certificate-identity', 'certificate-identity-regexp', 'certificate-oidc-issuer', 'certificate-oidc-issuer-regexp', 'trusted-root', 'insecure-ignore-sct'] as const;

/** The KEYLESS flags as read, before the trusted root is loaded (the sigstore code loads only for them). */
interface KeylessFlags {
  readonly identity: { readonly subject: string } | { readonly subjectRegExp: string };
  readonly issuer: { readonly issuer: string } | { readonly issuerRegExp: string };
  /** Undefined: the public-good trusted root sigward ships. */
  readonly trustedRootFile: string | undefined;
  readonly ignoreSct: boolean;
}


interface VerifyArgs {
  readonly image: string;
  readonly authorities: Authority[];
  /** The KEYLESS flags, made into an authority once the trusted root is read. */
  readonly keyless: { readonly flags: KeylessFlags; readonly common: Pick<Authority, 'signatureRepository' | 'annotations'> } | undefined;
  readonly threshold: number;
  readonly output: 'text' | 'json';
  readonly registry: RegistryFlagValues;
}

function readArgs(argv: readonly string[]): VerifyArgs {
  const { values, positionals } = parse(argv, VERIFY_FLAGS);
  const image = onePositional(positionals, 'IMAGE');
  const keyFiles = (values.key as string[] | undefined) ?? [];
  const keyless = readKeyless(values);
  if (keyFiles.length === 0 && keyless === undefined) {
    throw new SigwardError('USAGE', '--key is required, or a keyless identity (--certificate-identity or --certificate-identity-regexp with --certificate-oidc-issuer or --certificate-oidc-issuer-regexp)');
  }
  if (keyFiles.length > 0 && keyless !== undefined) throw new SigwardError('USAGE', '--key and the keyless flags exclude each other (as in cosign)');
  const output = values.output as string;
  if (output !== 'text' && output !== 'json') throw new SigwardError('USAGE', `--output: expected text or json, got '${output}'`);
  const threshold = values.threshold === undefined ? 1 : Number(values.threshold);
  const signers = keyless === undefined ? keyFiles.length : 1;
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > signers) {
    throw new SigwardError('USAGE', `--threshold: expected an integer from 1 to ${signers} (the number of keys)`);
  }
  const repo = values['signature-repository'] as string | undefined;
  const signatureRepository = repo === undefined ? undefined : parseRepository(repo);
  const annotations = keyValues(values.annotation as string[] | undefined, 'annotation');
  const hasAnnotations = Object.keys(annotations).length > 0;
  const common = { ...(signatureRepository ? { signatureRepository } : {}), ...(hasAnnotations ? { annotations } : {}) };
  const authorities = keyFiles.map((file) => ({ name: file, key: readKeyFile(file), ...common }));
  return { image, authorities, keyless: keyless === undefined ? undefined : { flags: keyless, common }, threshold, output, registry: values };
}

/**
 * cosign's KEYLESS flags: one identity flag and one issuer flag. A regexp is JavaScript syntax,
 * compiled on its own first and anchored to the whole value (cosign's are unanchored); one that
 * does not compile is a usage error. Without `--trusted-root`, the public-good root sigward ships.
 */
function readKeyless(values: Record<string, unknown>): KeylessFlags | undefined {
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
async function keylessAuthority(keyless: NonNullable<VerifyArgs['keyless']>): Promise<Authority> {
  const { flags, common } = keyless;
  const { parseTrustedRoot, shippedTrustedRoot } = await import('../sigstore/index.js');
  let trustedRoot;
  if (flags.trustedRootFile === undefined) trustedRoot = shippedTrustedRoot().root;
  else {
    const text = readTextFile(flags.trustedRootFile, 'trusted root');
    try {
      trustedRoot = parseTrustedRoot(text);
    } catch (err) {
      throw new SigwardError('FILE_UNREADABLE', `--trusted-root ${flags.trustedRootFile}: ${describeError(err)}`, { cause: err });
    }
  }
  const name = 'subject' in flags.identity ? flags.identity.subject : `/${flags.identity.subjectRegExp}/`;
  return { name, keyless: { kind: 'keyless', ...flags.identity, ...flags.issuer, trustedRoot, ...(flags.ignoreSct ? { ignoreSct: true } : {}) }, ...common };
}

/** `sigward verify`: 0 when `threshold` keys verify, 1 when not, 2 for bad input. */
export async function verifyCommand(argv: readonly string[], io: Io): Promise<number> {
  const parsed = readArgs(argv);
  const args = parsed.keyless === undefined ? parsed : { ...parsed, authorities: [await keylessAuthority(parsed.keyless)] };
  const ref = parseReference(args.image);
  const registry = new RegistryClient(registryOptions(args.registry, io.env));
  try {
    return await verifyImage(new Verifier({ registry }), ref, args, io);
  } finally {
    await registry.close();
  }
}

async function verifyImage(verifier: Verifier, ref: ImageReference, args: VerifyArgs, io: Io): Promise<number> {
  let digest: string;
  try {
    digest = await verifier.resolve(ref);
  } catch (err) {
    io.stderr(`${formatReference(ref)}: cannot resolve digest: ${describeError(err)} (${errorCode(err)})`);
    return 1;
  }
  const verdicts = await verifier.verifyDigest(ref, digest, args.authorities);
  const label = args.keyless === undefined ? 'key' : 'identity';
  const passed = verdicts.filter((v) => v.verified);
  const subject = `${ref.name}@${digest}`;
  if (passed.length < args.threshold) {
    reportFailures(io, subject, verdicts, label);
    if (passed.length > 0) {
      io.stderr(`${subject}: ${passed.length} of ${args.threshold} required keys verified (THRESHOLD_NOT_MET)`);
    }
    return 1;
  }
  printVerified(io, subject, passed, args.output, label);
  return 0;
}

function reportFailures(io: Io, subject: string, verdicts: readonly AuthorityVerdict[], label: 'key' | 'identity'): void {
  for (const verdict of verdicts) {
    if (verdict.verified) continue;
    for (const failure of verdict.failures) {
      io.stderr(`${subject}: ${label} ${verdict.authority}: ${failure.message} (${failure.code})`);
    }
  }
}

function printVerified(io: Io, subject: string, passed: readonly AuthorityVerdict[], output: 'text' | 'json', label: 'key' | 'identity'): void {
  const payloads = passed.flatMap((v) => v.signatures.map((s) => s.payload));
  if (output === 'json') {
    // As `cosign verify`: the verified payloads, parsed, as one JSON array on stdout.
    const decoder = new TextDecoder();
    io.stdout(JSON.stringify(payloads.map((p) => JSON.parse(decoder.decode(p)) as unknown)));
    return;
  }
  for (const verdict of passed) {
    for (const signature of verdict.signatures) {
      io.stdout(`Verified ${subject}: ${signature.format} signature at ${signature.location}, ${label} ${verdict.authority}`);
    }
  }
}
