import { readFileSync, statSync } from 'node:fs';
import { readKeyFile } from '../config.js';
import { describeError, errorCode, SigwardError } from '../errors.js';
import type { BundleAuthority } from '../sigstore/types.js';
import { onePositional, parse, type Io } from './args.js';
import { KEYLESS_OPTIONS, keylessAuthority, readKeyless, trustedRootFrom } from './keyless.js';

export const VERIFY_BLOB_FLAGS = {
  ...KEYLESS_OPTIONS,
  bundle: { type: 'string' },
  key: { type: 'string' },
  'insecure-ignore-tlog': { type: 'boolean' },
  output: { type: 'string', default: 'text' },
} as const;

/** A blob is read whole (a chart tarball, a release archive); past this it is refused, not read. */
const MAX_ARTIFACT_BYTES = 512 * 1024 * 1024;

/**
 * `sigward verify-blob ARTIFACT --bundle FILE (--key FILE [--insecure-ignore-tlog] | KEYLESS)`,
 * cosign's `verify-blob --bundle`: a message signature over the artifact, or a DSSE statement
 * with a subject whose sha256 is the artifact's (ARTIFACT may then be `sha256:<hex>`). With `--key`, a transparency-log entry that
 * verifies against the trusted root is required unless `--insecure-ignore-tlog`. Exit 0
 * verified, 1 not verified, 2 bad input.
 */
export async function verifyBlobCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, VERIFY_BLOB_FLAGS);
  const artifactFile = onePositional(positionals, 'ARTIFACT');
  const bundleFile = values.bundle as string | undefined;
  if (bundleFile === undefined) throw new SigwardError('USAGE', '--bundle FILE is required (a Sigstore bundle, as cosign sign-blob --bundle writes it)');
  const output = values.output as string;
  if (output !== 'text' && output !== 'json') throw new SigwardError('USAGE', `--output: expected text or json, got '${output}'`);
  const keyFile = values.key as string | undefined;
  const keyless = readKeyless(values);
  if ((keyFile === undefined) === (keyless === undefined)) {
    throw new SigwardError('USAGE', keyFile === undefined
      ? '--key FILE or a keyless identity (--certificate-identity[-regexp] with --certificate-oidc-issuer[-regexp]) is required'
      : '--key and the keyless flags exclude each other (as in cosign)');
  }
  if (values['insecure-ignore-tlog'] === true && keyFile === undefined) throw new SigwardError('USAGE', '--insecure-ignore-tlog applies to --key only');
  const artifact = readArtifact(artifactFile);
  const bundleBytes = readBundleFile(bundleFile);
  const authority: BundleAuthority = keyless !== undefined
    ? (await keylessAuthority(keyless)).keyless
    : {
        kind: 'key',
        key: readKeyFile(keyFile!),
        ...(values['insecure-ignore-tlog'] === true ? {} : { rekor: await trustedRootFrom(values['trusted-root'] as string | undefined) }),
      };
  const sigstore = await import('../sigstore/index.js');
  let verified;
  try {
    // cosign verify-blob reads every bundle version (v0.1 to v0.3).
    const bundle = sigstore.parseBundle(bundleBytes, { minVersion: '0.1' });
    verified = artifact instanceof Uint8Array
      ? sigstore.verifyArtifactBundle(bundle, artifact, authority)
      : sigstore.verifyArtifactDigestBundle(bundle, artifact.sha256, authority);
  } catch (err) {
    io.stderr(`${artifactFile}: bundle ${bundleFile}: ${describeError(err)} (${errorCode(err)})`);
    return 1;
  }
  const signer = verified.signer.kind === 'key' ? `key ${keyFile ?? ''}` : `identity ${verified.signer.subject} (issuer ${verified.signer.issuer})`;
  if (output === 'json') {
    // As cosign: the verified statement itself (the exact payload, parsed), else what was checked.
    io.stdout(verified.payload !== undefined ? new TextDecoder().decode(verified.payload).trim() : JSON.stringify({
      verified: true,
      artifact: artifactFile,
      signer: verified.signer,
      signingTimes: verified.signingTimes.map((t) => t.toISOString()),
      logIndexes: verified.logIndexes.map(String),
    }));
  } else {
    io.stdout(`Verified OK: ${artifactFile}, ${signer}${verified.logIndexes.length > 0 ? `, log index ${verified.logIndexes.join(', ')}` : ''}`);
  }
  return 0;
}

/** A file's bytes, or `sha256:<hex>` for an artifact known by its digest (DSSE bundles only). */
function readArtifact(artifact: string): Uint8Array | { readonly sha256: string } {
  const digest = /^sha256:([0-9a-f]{64})$/.exec(artifact);
  if (digest !== null) return { sha256: digest[1]! };
  if (/^sha\d+:/.test(artifact)) throw new SigwardError('USAGE', `ARTIFACT: ${artifact.slice(0, 100)} is not sha256:<64 lower-case hex> (nor a file)`);
  return readBounded(artifact, 'artifact', MAX_ARTIFACT_BYTES);
}

function readBundleFile(file: string): Uint8Array {
  return readBounded(file, 'bundle', 16 * 1024 * 1024);
}

function readBounded(file: string, what: string, max: number): Uint8Array {
  try {
    const size = statSync(file).size;
    if (size > max) throw new SigwardError('FILE_UNREADABLE', `${what} ${file} is ${size} bytes, more than ${max}`);
    return new Uint8Array(readFileSync(file));
  } catch (err) {
    if (err instanceof SigwardError) throw err;
    throw new SigwardError('FILE_UNREADABLE', `cannot read ${what} ${file}: ${describeError(err)}`, { cause: err });
  }
}
