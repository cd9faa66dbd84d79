/**
 * Child processes for integration tests: one-shot commands with a hard timeout, and daemons
 * (registries) that run in their own process group so stop() takes down everything they start.
 * Every spawn here is direct (no shell), so the recorded pid is the tool's own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  /** Hard limit; the process group is killed when it passes. Default 60 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Runs a command to completion. Resolves with its exit code (never rejects on a non-zero exit);
 * rejects when it cannot start or when it outlives its timeout, quoting what it printed. */
export function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${err.message}`, { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const out = Buffer.concat(stdout).toString('utf8');
      const err = Buffer.concat(stderr).toString('utf8');
      if (timedOut) {
        reject(new Error(`${file} ${args.join(' ')} timed out after ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
        return;
      }
      resolve({ code: code ?? (signal === null ? -1 : 128), stdout: out, stderr: err });
    });
    if (child.stdin !== null) {
      // A child may exit without reading its input; that is its answer, not a test error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.input);
    }
  });
}

/** Runs a command and rejects unless it exits 0. */
export async function runChecked(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  const result = await runCommand(file, args, options);
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}

export interface Daemon {
  readonly pid: number;
  readonly logFile: string;
  /** True once the process has exited (by itself or by stop()). */
  exited(): boolean;
  /** SIGTERM to the process group, SIGKILL after a grace period; resolves when it has exited. */
  stop(): Promise<void>;
}

/**
 * A guard that outlives a crash of the test process. jest runs tests against a copy of `process`
 * whose 'exit' event never fires, so an exit hook cannot be trusted; instead a tiny Node process
 * holds a pipe from this one. When the pipe closes without a word (this process ended, however
 * it died, even by SIGKILL), the guard kills the daemon's whole process group and removes its
 * scratch directory. A daemon that exits normally releases its guard by writing to the pipe.
 */
function startGuard(groupId: number, scratchDir: string): ChildProcess {
  // `scratchDir` may be '' (nothing to remove).
  const script = [
    'const [group, dir] = process.argv.slice(1);',
    'let released = false;',
    "process.stdin.on('data', () => { released = true; });",
    "process.stdin.on('end', () => {",
    '  if (!released) {',
    "    try { process.kill(-Number(group), 'SIGKILL'); } catch {}",
    "    if (dir) { try { require('node:fs').rmSync(dir, { recursive: true, force: true }); } catch {} }",
    '  }',
    '  process.exit(0);',
    '});',
  ].join('\n');
  const guard = spawn(process.execPath, ['-e', script, String(groupId), scratchDir], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: {},
  });
  guard.unref();
  // The pipe must not keep the test process alive either, nor fail a test if the guard is gone.
  (guard.stdin as unknown as Socket | null)?.unref();
  guard.stdin?.on('error', () => undefined);
  return guard;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}

export interface DaemonOptions {
  /** Receives stdout and stderr, written by the child directly (no pipe keeps the test busy). */
  readonly logFile: string;
  /** Removed by the guard if the test process dies before stop(). */
  readonly scratchDir?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running process in its own process group, watched by a guard (startGuard).
 * The third argument is the options, or (older form) just the log file, with `env` fourth.
 */
export function startDaemon(
  file: string,
  args: readonly string[],
  optionsOrLogFile: DaemonOptions | string,
  legacyEnv?: NodeJS.ProcessEnv,
): Daemon {
  const options: DaemonOptions =
    typeof optionsOrLogFile === 'string' ? { logFile: optionsOrLogFile, ...(legacyEnv === undefined ? {} : { env: legacyEnv }) } : optionsOrLogFile;
  const { logFile, scratchDir, env } = options;
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(file, args, { env: env ?? process.env, stdio: ['ignore', fd, fd], detached: true });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`cannot start ${file}`);
  const pid = child.pid;
  const guard = startGuard(pid, scratchDir ?? '');
  let done = false;
  const exitedPromise = new Promise<void>((resolve) => {
    const finish = (): void => {
      if (done) return;
      done = true;
      guard.stdin?.end('released');
      resolve();
    };
    child.once('exit', finish);
    child.once('error', finish);
  });
  child.unref();
  return {
    pid,
    logFile,
    exited: () => done,
    async stop() {
      if (done) return;
      killGroup(child, 'SIGTERM');
      const grace = new Promise<'late'>((resolve) => setTimeout(() => { resolve('late'); }, 3000).unref());
      if ((await Promise.race([exitedPromise.then(() => 'ok' as const), grace])) === 'late') {
        killGroup(child, 'SIGKILL');
        await exitedPromise;
      }
    },
  };
}

/** A fresh temporary directory and a function that removes it. */
export function makeTempDir(prefix: string): { readonly dir: string; readonly remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sigward-${prefix}-`));
  return { dir, remove: () => { rmSync(dir, { recursive: true, force: true }); } };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
