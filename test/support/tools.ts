/**
 * Where the real peers live. scripts/tools.sh installs them into a cache and prints their paths
 * (`tools.sh env`); its SIGWARD_* variables win, else the script is asked. A missing binary is a
 * thrown error, never a skipped test: a test that silently does not run proves nothing.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ToolName = 'cosign2' | 'cosign3' | 'crane' | 'helm' | 'registry' | 'node' | 'htpasswd' | 'openssl';

const ENV_VARIABLE: Readonly<Record<ToolName, string>> = {
  cosign2: 'SIGWARD_COSIGN2',
  cosign3: 'SIGWARD_COSIGN3',
  crane: 'SIGWARD_CRANE',
  helm: 'SIGWARD_HELM',
  registry: 'SIGWARD_REGISTRY_BIN',
  node: 'SIGWARD_NODE',
  htpasswd: 'SIGWARD_HTPASSWD',
  openssl: 'SIGWARD_OPENSSL',
};

/** System tools that tools.sh installs with apt, found at their Debian paths when no variable names them. */
const SYSTEM_PATH: Partial<Record<ToolName, string>> = {
  htpasswd: '/usr/bin/htpasswd',
  openssl: '/usr/bin/openssl',
  registry: '/usr/bin/docker-registry',
};

let scriptEnv: Readonly<Record<string, string>> | undefined;

/** Parses the `export NAME='value'` lines of `tools.sh env` (only single-quoted values: PATH is skipped). */
function toolsScriptEnv(): Readonly<Record<string, string>> {
  if (scriptEnv !== undefined) return scriptEnv;
  const text = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'tools.sh'), 'env'], { encoding: 'utf8', timeout: 30_000 });
  const parsed: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^export (SIGWARD_[A-Z0-9_]+)='([^']*)'$/.exec(line.trim());
    if (match?.[1] !== undefined && match[2] !== undefined) parsed[match[1]] = match[2];
  }
  scriptEnv = parsed;
  return parsed;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a peer binary; throws naming the variable and the install command when absent.
 * A variable that is set is taken at its word: if it names no executable, that is an error, not
 * a reason to quietly use another copy. */
export function toolPath(name: ToolName): string {
  const variable = ENV_VARIABLE[name];
  const fromEnv = process.env[variable];
  const candidates =
    fromEnv !== undefined && fromEnv !== ''
      ? [fromEnv]
      : [toolsScriptEnv()[variable], SYSTEM_PATH[name]].filter((path): path is string => path !== undefined && path !== '');
  const found = candidates.find(isExecutable);
  if (found === undefined) {
    throw new Error(
      `integration peer '${name}' is missing (looked at ${candidates.join(', ') || `$${variable}`}); ` +
        `install it with: bash scripts/tools.sh all`,
    );
  }
  return found;
}

/** The Node binary that runs the sigward CLI: the project's Node 24, else the one running the tests. */
export function nodePath(): string {
  try {
    return toolPath('node');
  } catch {
    return process.execPath;
  }
}
