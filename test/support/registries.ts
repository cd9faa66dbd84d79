/**
 * Real registries on loopback for integration tests:
 * - Debian's `docker-registry` (CNCF distribution 2.8): TLS with a throwaway CA, optional
 *   htpasswd (bcrypt) Basic auth, filesystem storage, no referrers API;
 * - go-containerregistry's `crane registry serve`: plain HTTP, in memory. Its v0.21.9 build
 *   leaves the referrers API switched off (404), so both registries exercise the tag fallback.
 * Each writes its request log to `logFile`, which countRequests() reads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { registryFetch, type RegistryEndpoint } from './http.js';
import { makeTempDir, runChecked, sleep, startDaemon, type Daemon } from './process.js';
import { makeTestPki } from './tls.js';
import { toolPath } from './tools.js';
import { freePort } from './net.js';

export interface TestRegistry extends RegistryEndpoint {
  readonly kind: 'distribution' | 'crane';
  /** Whether `GET /v2/<name>/referrers/<digest>` exists on this registry. */
  readonly referrersApi: boolean;
  /** The system CA bundle plus the test CA (for tools reading SSL_CERT_FILE); absent for plain HTTP. */
  readonly caBundleFile?: string;
  readonly logFile: string;
  /** Process id of the registry (the leader of its own process group). */
  readonly pid: number;
  /** Scratch directory of this registry (storage, certificates, config). */
  readonly dir: string;
  stop(): Promise<void>;
}

export interface DistributionOptions {
  readonly auth?: { readonly username: string; readonly password: string };
  readonly tls: true;
}

const STARTUP_TIMEOUT_MS = 15_000;


/** Polls `GET /v2/` until the registry answers (200, or 401 when it demands credentials). */
async function waitUntilServing(endpoint: RegistryEndpoint, daemon: Daemon): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let lastError = '';
  while (Date.now() < deadline) {
    if (daemon.exited()) break;
    try {
      const response = await registryFetch(endpoint, '/v2/', { anonymous: true });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
      lastError = `HTTP ${response.status}`;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    await sleep(50);
  }
  await daemon.stop();
  throw new Error(`registry at ${endpoint.host} did not start (${lastError}); log:\n${readLog(daemon.logFile).slice(-2000)}`);
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8');
  } catch {
    return '';
  }
}

function distributionConfig(dir: string, port: number, certFile: string, keyFile: string, htpasswdFile?: string): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: sigward-integration-only',
    '  tls:',
    `    certificate: ${certFile}`,
    `    key: ${keyFile}`,
  ];
  if (htpasswdFile !== undefined) lines.push('auth:', '  htpasswd:', '    realm: sigward-test', `    path: ${htpasswdFile}`);
  const file = join(dir, `config-${port}.yml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Starts the Debian distribution registry with TLS (and htpasswd when `auth` is given). */
export async function startDistributionRegistry(options: DistributionOptions): Promise<TestRegistry> {
  const scratch = makeTempDir('registry');
  const pki = await makeTestPki(scratch.dir);
  let htpasswdFile: string | undefined;
  if (options.auth !== undefined) {
    htpasswdFile = join(scratch.dir, 'htpasswd');
    // The registry accepts only bcrypt entries (-B).
    await runChecked(toolPath('htpasswd'), ['-Bbc', htpasswdFile, options.auth.username, options.auth.password], { timeoutMs: 20_000 });
  }
  const logFile = join(scratch.dir, 'registry.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = distributionConfig(scratch.dir, port, pki.certFile, pki.keyFile, htpasswdFile);
    const daemon = startDaemon(toolPath('registry'), ['serve', config], { logFile, scratchDir: scratch.dir });
    const endpoint: RegistryEndpoint = {
      host: `127.0.0.1:${port}`,
      scheme: 'https',
      caFile: pki.caFile,
      ...(options.auth === undefined ? {} : { username: options.auth.username, password: options.auth.password }),
    };
    try {
      await waitUntilServing(endpoint, daemon);
    } catch (err) {
      if (attempt < 3 && readLog(logFile).includes('address already in use')) continue;
      scratch.remove();
      throw err;
    }
    return {
      ...endpoint,
      kind: 'distribution',
      referrersApi: false,
      caBundleFile: pki.bundleFile,
      logFile,
      pid: daemon.pid,
      dir: scratch.dir,
      async stop() {
        await daemon.stop();
        scratch.remove();
      },
    };
  }
}

/** Starts `crane registry serve` on an OS-chosen loopback port (read back from its log). */
export async function startCraneRegistry(): Promise<TestRegistry> {
  const scratch = makeTempDir('crane');
  const logFile = join(scratch.dir, 'registry.log');
  const daemon = startDaemon(toolPath('crane'), ['registry', 'serve', '--address', '127.0.0.1:0'], { logFile, scratchDir: scratch.dir });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  let port: string | undefined;
  while (port === undefined && Date.now() < deadline && !daemon.exited()) {
    port = /serving on port (\d+)/.exec(readLog(logFile))?.[1];
    if (port === undefined) await sleep(25);
  }
  if (port === undefined) {
    await daemon.stop();
    const log = readLog(logFile);
    scratch.remove();
    throw new Error(`crane registry did not report its port; log:\n${log.slice(-2000)}`);
  }
  const endpoint: RegistryEndpoint = { host: `127.0.0.1:${port}`, scheme: 'http' };
  await waitUntilServing(endpoint, daemon);
  return {
    ...endpoint,
    kind: 'crane',
    referrersApi: false,
    logFile,
    pid: daemon.pid,
    dir: scratch.dir,
    async stop() {
      await daemon.stop();
      scratch.remove();
    },
  };
}

export interface LoggedRequest {
  readonly method: string;
  /** Path and query as requested. */
  readonly uri: string;
  /** HTTP status, when the log line carries it (crane logs it only for errors). */
  readonly status?: number;
}

/**
 * The requests a registry logged, in order. Distribution writes one combined-format access line
 * per request (`127.0.0.1 - - [date] "GET /v2/ HTTP/1.1" 200 2 "" "agent"`); crane logs
 * `YYYY/MM/DD hh:mm:ss METHOD URI[ STATUS CODE message]`.
 */
export function readRequests(logFile: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  for (const line of readLog(logFile).split('\n')) {
    const access = /^\S+ \S+ \S+ \[[^\]]+\] "([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3}) /.exec(line);
    if (access?.[1] !== undefined && access[2] !== undefined) {
      requests.push({ method: access[1], uri: access[2], status: Number(access[3]) });
      continue;
    }
    const crane = /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d (GET|HEAD|PUT|POST|PATCH|DELETE) (\S+)(?: (\d{3}) )?/.exec(line);
    if (crane?.[1] !== undefined && crane[2] !== undefined) {
      requests.push({ method: crane[1], uri: crane[2], ...(crane[3] === undefined ? {} : { status: Number(crane[3]) }) });
    }
  }
  return requests;
}

/** How many logged requests match `pattern`, tested against `"METHOD URI"` (e.g. /^HEAD \/v2\/app\/manifests\//). */
export function countRequests(logFile: string, pattern: RegExp): number {
  return readRequests(logFile).filter((request) => pattern.test(`${request.method} ${request.uri}`)).length;
}
