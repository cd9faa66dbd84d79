import { readKeyFile, registryOptions, REGISTRY_FLAGS, type RegistryFlagValues } from '../config.js';
import { SigwardError, describeError, errorCode } from '../errors.js';
import { parseReference, parseRepository, formatReference } from '../reference/index.js';
import type { ImageReference } from '../reference/types.js';
import { RegistryClient } from '../registry/index.js';
import { Verifier } from '../verify/verifier.js';
import type { Authority, AuthorityVerdict } from '../verify/types.js';
import { keyValues, onePositional, parse, type Io } from './args.js';
import { KEYLESS_OPTIONS, keylessAuthority, readKeyless, type KeylessFlags } from './keyless.js';

export const VERIFY_FLAGS = {
  ...REGISTRY_FLAGS,
  key: { type: 'string', multiple: true },
  threshold: { type: 'string' },
  'signature-repository': { type: 'string' },
  annotation: { type: 'string', multiple: true },
  output: { type: 'string', default: 'text' },
  ...KEYLESS_OPTIONS,
} as const;



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


/** `sigward verify`: 0 when `threshold` keys verify, 1 when not, 2 for bad input. */
export async function verifyCommand(argv: readonly string[], io: Io): Promise<number> {
  const parsed = readArgs(argv);
  const args = parsed.keyless === undefined
    ? parsed
    : { ...parsed, authorities: [{ ...(await keylessAuthority(parsed.keyless.flags)), ...parsed.keyless.common }] };
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
