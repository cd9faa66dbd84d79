import { describeError, errorCode, type ErrorCode } from '../errors.js';
import type { Io } from './args.js';
import { resolveCommand, triangulateCommand, RESOLVE_USAGE, TRIANGULATE_USAGE } from './resolve.js';
import { verifyCommand, VERIFY_USAGE } from './verify.js';
import { serveCommand, SERVE_USAGE } from './serve.js';
import { checkCommand, CHECK_USAGE } from './check.js';

type Command = (argv: readonly string[], io: Io) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  verify: verifyCommand,
  resolve: resolveCommand,
  triangulate: triangulateCommand,
  serve: serveCommand,
  check: checkCommand,
};

const USAGE = `usage:
  ${VERIFY_USAGE}
  ${TRIANGULATE_USAGE}
  ${RESOLVE_USAGE}
  ${SERVE_USAGE}
  ${CHECK_USAGE}
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
]);

export async function run(argv: readonly string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr(`sigward: unknown command '${name}'\n${USAGE}`);
    return 2;
  }
  try {
    return await command(rest, io);
  } catch (err) {
    const code = errorCode(err);
    io.stderr(`sigward ${name}: ${describeError(err)} (${code})`);
    if (code === 'USAGE') io.stderr(USAGE);
    return INPUT_ERRORS.has(code) ? 2 : 1;
  }
}
