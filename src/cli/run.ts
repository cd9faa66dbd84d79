import { describeError, errorCode, type ErrorCode } from '../errors.js';
import { sigwardVersion } from '../version.js';
import type { Io } from './args.js';
import { CHECK_USAGE, REPORT_USAGE, RESOLVE_USAGE, SERVE_USAGE, TRIANGULATE_USAGE, VERIFY_USAGE } from './usage.js';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

/** Each command's code is loaded only when it runs: `verify` never pays for the Kubernetes
 * client or express, which `serve` and `report` need. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  verify: async () => (await import('./verify.js')).verifyCommand,
  resolve: async () => (await import('./resolve.js')).resolveCommand,
  triangulate: async () => (await import('./resolve.js')).triangulateCommand,
  serve: async () => (await import('./serve.js')).serveCommand,
  check: async () => (await import('./check.js')).checkCommand,
  report: async () => (await import('./report.js')).reportCommand,
};

const USAGE = `usage:
  sigward --version
  ${VERIFY_USAGE}
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
    io.stderr(`sigward: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    const command = await load();
    return await command(rest, io);
  } catch (err) {
    const code = errorCode(err);
    io.stderr(`sigward ${name}: ${describeError(err)} (${code})`);
    if (code === 'USAGE') io.stderr(USAGE);
    return INPUT_ERRORS.has(code) ? 2 : 1;
  }
}
