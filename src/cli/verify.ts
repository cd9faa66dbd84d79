import { readKeyFile, registryOptions, REGISTRY_FLAGS, type RegistryFlagValues } from '../config.js';
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
} as const;


interface VerifyArgs {
  readonly image: string;
  readonly authorities: Authority[];
  readonly threshold: number;
  readonly output: 'text' | 'json';
  readonly registry: RegistryFlagValues;
}

function readArgs(argv: readonly string[]): VerifyArgs {
  const { values, positionals } = parse(argv, VERIFY_FLAGS);
  const image = onePositional(positionals, 'IMAGE');
  const keyFiles = (values.key as string[] | undefined) ?? [];
  if (keyFiles.length === 0) throw new SigwardError('USAGE', '--key is required');
  const output = values.output as string;
  if (output !== 'text' && output !== 'json') throw new SigwardError('USAGE', `--output: expected text or json, got '${output}'`);
  const threshold = values.threshold === undefined ? 1 : Number(values.threshold);
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > keyFiles.length) {
    throw new SigwardError('USAGE', `--threshold: expected an integer from 1 to ${keyFiles.length} (the number of keys)`);
  }
  const repo = values['signature-repository'] as string | undefined;
  const signatureRepository = repo === undefined ? undefined : parseRepository(repo);
  const annotations = keyValues(values.annotation as string[] | undefined, 'annotation');
  const hasAnnotations = Object.keys(annotations).length > 0;
  const authorities = keyFiles.map((file) => ({
    name: file,
    key: readKeyFile(file),
    ...(signatureRepository ? { signatureRepository } : {}),
    ...(hasAnnotations ? { annotations } : {}),
  }));
  return { image, authorities, threshold, output, registry: values };
}

/** `sigward verify`: 0 when `threshold` keys verify, 1 when not, 2 for bad input. */
export async function verifyCommand(argv: readonly string[], io: Io): Promise<number> {
  const args = readArgs(argv);
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
  const passed = verdicts.filter((v) => v.verified);
  const subject = `${ref.name}@${digest}`;
  if (passed.length < args.threshold) {
    reportFailures(io, subject, verdicts);
    if (passed.length > 0) {
      io.stderr(`${subject}: ${passed.length} of ${args.threshold} required keys verified (THRESHOLD_NOT_MET)`);
    }
    return 1;
  }
  printVerified(io, subject, passed, args.output);
  return 0;
}

function reportFailures(io: Io, subject: string, verdicts: readonly AuthorityVerdict[]): void {
  for (const verdict of verdicts) {
    if (verdict.verified) continue;
    for (const failure of verdict.failures) {
      io.stderr(`${subject}: key ${verdict.authority}: ${failure.message} (${failure.code})`);
    }
  }
}

function printVerified(io: Io, subject: string, passed: readonly AuthorityVerdict[], output: 'text' | 'json'): void {
  const payloads = passed.flatMap((v) => v.signatures.map((s) => s.payload));
  if (output === 'json') {
    // As `cosign verify`: the verified payloads, parsed, as one JSON array on stdout.
    const decoder = new TextDecoder();
    io.stdout(JSON.stringify(payloads.map((p) => JSON.parse(decoder.decode(p)) as unknown)));
    return;
  }
  for (const verdict of passed) {
    for (const signature of verdict.signatures) {
      io.stdout(`Verified ${subject}: ${signature.format} signature at ${signature.location}, key ${verdict.authority}`);
    }
  }
}
