import { describeError, errorCode, type ErrorCode } from '../errors.js';
import { sigwardVersion } from '../version.js';
import type { Io } from './args.js';
import { closestFlag, COMMAND_HELP, commandHelp } from './help.js';
import { CHECK_USAGE, REPORT_USAGE, RESOLVE_USAGE, SERVE_USAGE, TRIANGULATE_USAGE, VERIFY_BLOB_USAGE, VERIFY_USAGE } from './usage.js';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

/** Each command's code is loaded only when it runs: `verify` never pays for the Kubernetes
 * client or express, which `serve` and `report` need. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  verify: async () => (await import('./verify.js')).verifyCommand,
  'verify-blob': async () => (await import('./verify-blob.js')).verifyBlobCommand,
  resolve: async () => (await import('./resolve.js')).resolveCommand,
  triangulate: async () => (await import('./resolve.js')).triangulateCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  check: async () => (await import('./check.js')).checkCommand,
  report: async () => (await import('./report.js')).reportCommand,
};

const USAGE = `usage:
  sigward --version
  ${VERIFY_USAGE}
  ${VERIFY_BLOB_USAGE}
  ${TRIANGULATE_USAGE}
  ${RESOLVE_USAGE}
  ${SERVE_USAGE}
  ${CHECK_USAGE}
  ${REPORT_USAGE}
REGISTRY OPTIONS: --ca-file FILE  --insecure-registry HOST[:PORT]  --registry-config FILE  --timeout SECONDS`;

/** Input errors exit 2; everything else that fails exits 1 (not verified). */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'FILE_UNREADABLE',
  'CONFIG_INVALID',
  'KEY_INVALID',
  'KEY_UNSUPPORTED',
  'REFERENCE_INVALID',
  'REFERENCE_NAME_TOO_LONG',
  'DIGEST_INVALID',
  'DIGEST_UNSUPPORTED',
  'POLICY_INVALID',
  'NO_POLICY',
]);

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === 'version') {
    io.stdout(`sigward ${sigwardVersion()}`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    const guess = closestFlag(name.slice(0, 100), Object.keys(COMMANDS));
    // The error line comes last, so that `2>&1 | tail -1` shows it.
    io.stderr(USAGE);
    io.stderr(`sigward: unknown command '${name.slice(0, 100)}'${guess === undefined ? '' : ` (did you mean ${guess}?)`}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    io.stdout(commandHelp(name) ?? USAGE);
    return 0;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    const code = errorCode(err);
    // A usage error shows that command's usage only, then the error line last.
    if (code === 'USAGE') io.stderr(`usage: ${COMMAND_HELP[name]?.usage ?? USAGE}\n(sigward ${name} --help lists every flag)`);
    io.stderr(`sigward ${name}: ${describeError(err)} (${code})`);
    return INPUT_ERRORS.has(code) ? 2 : 1;
  }
}

/** `--help` or `-h` anywhere before a `--` that ends the flags. */
function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false;
    if (arg === '--help' || arg === '-h') return true;
  }
  return false;
}
