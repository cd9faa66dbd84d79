import { registryOptions, REGISTRY_FLAGS } from '../config.js';
import { SigwardError } from '../errors.js';
import { signatureTag } from '../cosign/index.js';
import { parseReference } from '../reference/index.js';
import { RegistryClient } from '../registry/index.js';
import { Verifier } from '../verify/verifier.js';
import { onePositional, parse, type Io } from './args.js';


export const RESOLVE_FLAGS = REGISTRY_FLAGS;
export const TRIANGULATE_FLAGS = { ...REGISTRY_FLAGS, type: { type: 'string' } } as const;

async function digestOf(argv: readonly string[], io: Io, flags: typeof RESOLVE_FLAGS | typeof TRIANGULATE_FLAGS) {
  const { values, positionals } = parse(argv, flags);
  const ref = parseReference(onePositional(positionals, 'IMAGE'));
  const registry = new RegistryClient(registryOptions(values, io.env));
  try {
    return { ref, digest: await new Verifier({ registry }).resolve(ref), values };
  } finally {
    await registry.close();
  }
}

/** `sigward resolve`: prints the normalized `REPO@sha256:<hex>` the reference names now. */
export async function resolveCommand(argv: readonly string[], io: Io): Promise<number> {
  const { ref, digest } = await digestOf(argv, io, RESOLVE_FLAGS);
  io.stdout(`${ref.name}@${digest}`);
  return 0;
}

/** `sigward triangulate`: prints where cosign stores the signatures of an image (`REPO:sha256-<hex>.sig`). */
export async function triangulateCommand(argv: readonly string[], io: Io): Promise<number> {
  const { ref, digest, values } = await digestOf(argv, io, TRIANGULATE_FLAGS);
  const type = (values.type as string | undefined) ?? 'signature';
  const suffixes: Record<string, string> = { signature: 'sig', attestation: 'att' };
  const suffix = suffixes[type];
  if (suffix === undefined) throw new SigwardError('USAGE', `--type: expected signature or attestation, got '${type}'`);
  io.stdout(`${ref.name}:${signatureTag(digest, suffix)}`);
  return 0;
}
