/**
 * Docker credential helpers, run as docker and cosign run them: `docker-credential-<name> get`
 * from PATH, the server on stdin (`https://index.docker.io/v1/` for Docker Hub, else the
 * registry host), `{"Username","Secret"}` on stdout, where the user `<token>` marks an identity
 * token. An exit with "credentials not found in native keychain" means the helper has nothing for
 * that server; any other failure is CREDENTIALS_UNAVAILABLE naming the helper and the registry.
 */
import { DOCKER_HUB } from '../constants.js';
import { SigwardError } from '../errors.js';
import { isObject } from '../registry/parse.js';
import { ProgramFailure, runProgram } from './exec.js';
import { CredentialMemo } from './memo.js';
import type { Credential } from './types.js';

const TIMEOUT_MS = 10_000;
const MAX_OUTPUT_BYTES = 64 * 1024;
/** Answers are asked again after a minute (a helper's tokens may be short-lived). */
const ANSWER_TTL_MS = 60_000;
const BACKOFF = { firstMs: 2_000, maxMs: 300_000 };
const NOT_FOUND = 'credentials not found in native keychain';
const TOKEN_USER = '<token>';

export class DockerHelpers {
  private readonly memo = new CredentialMemo<Credential | undefined>(BACKOFF);

  /** The helper's credential for a registry host (`docker.io` for Docker Hub); undefined when it has none. */
  get(helper: string, host: string, signal: AbortSignal | undefined): Promise<Credential | undefined> {
    const server = host === DOCKER_HUB.domain ? 'https://index.docker.io/v1/' : host;
    return this.memo.get(`${helper}\n${server}`, async () => ({ value: await ask(helper, host, server), ttlMs: ANSWER_TTL_MS }), signal);
  }
}

async function ask(helper: string, host: string, server: string): Promise<Credential | undefined> {
  const program = `docker-credential-${helper}`;
  const source = `credential helper ${program}`;
  const fail = (why: string): SigwardError =>
    new SigwardError('CREDENTIALS_UNAVAILABLE', `${source} for registry ${host}: ${why}`);
  let result;
  try {
    result = await runProgram({ file: program, args: ['get'], stdin: server, timeoutMs: TIMEOUT_MS, maxOutputBytes: MAX_OUTPUT_BYTES });
  } catch (err) {
    throw fail(err instanceof ProgramFailure ? (err.message === 'not found' ? 'not found on PATH' : err.message) : 'cannot run');
  }
  if (result.status !== 0) {
    if (result.stdout.trim() === NOT_FOUND) return undefined;
    throw fail(`exit status ${result.status}`);
  }
  let answer: unknown;
  try {
    answer = JSON.parse(result.stdout);
  } catch {
    throw fail('its answer is not JSON');
  }
  if (!isObject(answer) || typeof answer.Username !== 'string' || typeof answer.Secret !== 'string') {
    throw fail('its answer lacks Username and Secret strings');
  }
  if (answer.Secret === '') return undefined;
  if (answer.Username === TOKEN_USER) return { kind: 'token', identityToken: answer.Secret, source };
  if (answer.Username === '') throw fail('its answer has a Secret without a Username');
  return { kind: 'basic', username: answer.Username, password: answer.Secret, source };
}
