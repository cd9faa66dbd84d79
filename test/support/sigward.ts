/**
 * Runs the built sigward CLI (`node dist/cli/main.js`) as a user would, in a clean environment:
 * no inherited DOCKER_CONFIG or proxies, HOME in a temp dir, and a dead proxy so that any
 * request beyond loopback fails instead of leaving the machine.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, runCommand, type CommandResult } from './process.js';
import { nodePath, REPO_ROOT } from './tools.js';

export const SIGWARD_CLI = join(REPO_ROOT, 'dist', 'cli', 'main.js');

const DEAD_PROXY = 'http://127.0.0.1:9';

/** Throws unless `npm run build` has produced the CLI. */
export function requireBuiltCli(): string {
  if (!existsSync(SIGWARD_CLI)) {
    throw new Error(`${SIGWARD_CLI} does not exist: run \`npm run build\` before the integration tests`);
  }
  return SIGWARD_CLI;
}

/** `sigward ARGS...`; resolves with exit code, stdout and stderr (never rejects on a non-zero exit). */
export async function runSigward(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<CommandResult> {
  const cli = requireBuiltCli();
  const scratch = makeTempDir('sigward-cli');
  try {
    return await runCommand(nodePath(), [cli, ...args], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: scratch.dir,
        TMPDIR: scratch.dir,
        HTTPS_PROXY: DEAD_PROXY,
        HTTP_PROXY: DEAD_PROXY,
        NO_PROXY: '127.0.0.1,localhost,::1',
        ...env,
      },
      cwd: REPO_ROOT,
      timeoutMs,
    });
  } finally {
    scratch.remove();
  }
}
