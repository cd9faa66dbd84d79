/**
 * Runs a credential program (a docker credential helper, a kubelet credential provider plugin):
 * one request on stdin, one answer on stdout, bounded in time and bytes. Its stderr is counted
 * and dropped, and nothing it prints is ever put in a message: either stream may hold a secret.
 */
import { spawn } from 'node:child_process';

export interface ProgramCall {
  /** A path, or a bare name looked up on PATH. */
  readonly file: string;
  readonly args: readonly string[];
  readonly stdin: string;
  /** Added to the environment sigward runs with (the kubelet passes its own to plugins too). */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxOutputBytes: number;
  readonly signal?: AbortSignal | undefined;
}

export interface ProgramResult {
  /** The exit status; a program killed by a signal is a ProgramFailure instead. */
  readonly status: number;
  readonly stdout: string;
}

/** Why a program gave no answer, in words fit for an error message (no output quoted). */
export class ProgramFailure extends Error {
  override readonly name = 'ProgramFailure';
}

export function runProgram(call: ProgramCall): Promise<ProgramResult> {
  return new Promise((resolve, reject) => {
    if (call.signal?.aborted === true) {
      reject(new ProgramFailure('cancelled before it started'));
      return;
    }
    const child = spawn(call.file, [...call.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...call.env },
      shell: false,
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let bytes = 0;
    let failure: ProgramFailure | undefined;
    const stop = (why: string): void => {
      failure ??= new ProgramFailure(why);
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => { stop(`timed out after ${call.timeoutMs} ms`); }, call.timeoutMs);
    const onAbort = (): void => { stop('cancelled'); };
    call.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > call.maxOutputBytes) stop(`printed more than ${call.maxOutputBytes} bytes`);
      else chunks.push(chunk);
    });
    // Read and dropped, so a program writing much to stderr never blocks on a full pipe.
    child.stderr.resume();
    child.stdin.on('error', () => { /* a program that exits without reading its input */ });
    child.stdin.end(call.stdin);
    child.on('error', (err: NodeJS.ErrnoException) => {
      failure ??= new ProgramFailure(err.code === 'ENOENT' ? 'not found' : err.code === 'EACCES' ? 'not executable' : `cannot start (${err.code ?? 'error'})`);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      call.signal?.removeEventListener('abort', onAbort);
      if (failure !== undefined) reject(failure);
      else if (status === null) reject(new ProgramFailure(`killed by ${signal ?? 'a signal'}`));
      else resolve({ status, stdout: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
