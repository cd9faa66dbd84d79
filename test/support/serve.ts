/**
 * A running `sigward serve` (node dist/cli/main.js serve …) as the API server meets it: HTTPS
 * with a certificate made by openssl for 127.0.0.1, trusted by the client through its CA only
 * (no "insecure" shortcut), policies written as YAML files, registry TLS trust through
 * `--ca-file` and credentials through `--registry-config`. The process runs in a clean
 * environment (no inherited DOCKER_CONFIG, NODE_OPTIONS or proxy) with a dead proxy, so nothing
 * it does can leave loopback.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { stringify } from 'yaml';
import { writeDockerConfig } from './docker-config.js';
import { makeTempDir, sleep, startDaemon, type Daemon } from './process.js';
import type { TestRegistry } from './registries.js';
import type { AdmissionReviewRequest } from './review.js';
import { requireBuiltCli } from './sigward.js';
import { makeTestPki, type TestPki } from './tls.js';
import { nodePath } from './tools.js';
import {
  heldBody, requester, reviewResponse, REQUEST_TIMEOUT_MS, type AdmissionResponse, type HeldReview, type HttpAnswer, type Request,
} from './webhook-client.js';
import { freePort } from './net.js';

export { freePort };

export { decodePatch, type AdmissionResponse, type HeldReview, type HttpAnswer } from './webhook-client.js';

export type PolicyMode = 'enforce' | 'warn' | 'audit';

export interface AuthorityDoc {
  readonly name: string;
  /** PEM public key file (`cosign.pub`); its text goes into `key.data`. */
  readonly publicKeyFile: string;
}

export interface PolicyDoc {
  readonly kind?: 'ClusterImagePolicy' | 'ImagePolicy';
  readonly name: string;
  /** ImagePolicy only. */
  readonly namespace?: string;
  /** Globs over normalized repositories, e.g. `127.0.0.1:5000/app/**`. */
  readonly images: readonly string[];
  readonly mode?: PolicyMode;
  readonly threshold?: number;
  readonly authorities: readonly AuthorityDoc[];
}

export interface ServeOptions {
  /** Written one per file and passed as repeated `--policy-file`. */
  readonly policies: readonly PolicyDoc[];
  /** Registries sigward talks to: their CA goes to `--ca-file`, their logins to `--registry-config`. */
  readonly registries?: readonly TestRegistry[];
  readonly noMatch?: 'deny' | 'warn' | 'allow';
  readonly webhookTimeoutSeconds?: number;
  readonly mutateWorkloads?: boolean;
  /** `--insecure-registry HOST:PORT` for plain-HTTP registries. */
  readonly insecureRegistries?: readonly string[];
  /** `--timeout`: per registry request. */
  readonly registryTimeoutSeconds?: number;
  /** More flags, after the others. */
  readonly extraArgs?: readonly string[];
}

export interface ServeProcess {
  /** `https://127.0.0.1:PORT`. */
  readonly origin: string;
  readonly port: number;
  readonly metricsPort: number;
  readonly pid: number;
  readonly logFile: string;
  /** The CA that signed the webhook's certificate: the only thing the client trusts. */
  readonly caFile: string;
  /** The serve command line after `node main.js`. */
  readonly args: readonly string[];
  post(path: string, body: unknown): Promise<HttpAnswer>;
  get(path: string): Promise<HttpAnswer>;
  /** POSTs a review to `path` and returns its `response`; throws unless HTTP 200 with an AdmissionReview. */
  admit(path: '/validate' | '/mutate', review: AdmissionReviewRequest): Promise<AdmissionResponse>;
  /**
   * `admit`, with the last byte of the body held back until `release` resolves: many reviews sent
   * this way complete at one instant, so the server reads them together (a barrier for testing
   * concurrent reviews). `started` resolves once the rest of the body has been handed to the client.
   */
  admitHeld(path: '/validate' | '/mutate', review: AdmissionReviewRequest, release: Promise<void>): HeldReview;
  /** The Prometheus text of `GET /metrics` on the metrics port. */
  metrics(): Promise<string>;
  /** What serve has logged so far. */
  log(): string;
  exited(): boolean;
  /** SIGTERM (then SIGKILL), close the client, remove the scratch directory. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const DEAD_PROXY = 'http://127.0.0.1:9';


/** The policy as the CRD (and `--policy-file`) spells it, keys inlined as `key.data`. */
export function policyDocument(policy: PolicyDoc): Record<string, unknown> {
  const kind = policy.kind ?? 'ClusterImagePolicy';
  return {
    apiVersion: 'sigward.dev/v1alpha1',
    kind,
    metadata: { name: policy.name, ...(kind === 'ImagePolicy' ? { namespace: policy.namespace ?? 'default' } : {}) },
    spec: {
      images: policy.images.map((glob) => ({ glob })),
      ...(policy.mode !== undefined ? { mode: policy.mode } : {}),
      ...(policy.threshold !== undefined ? { threshold: policy.threshold } : {}),
      authorities: policy.authorities.map((a) => ({ name: a.name, key: { data: readFileSync(a.publicKeyFile, 'utf8') } })),
    },
  };
}

function serveArgs(dir: string, options: ServeOptions, pki: TestPki, ports: { port: number; metricsPort: number }): string[] {
  const args = ['serve', '--host', '127.0.0.1', '--port', String(ports.port), '--metrics-port', String(ports.metricsPort)];
  args.push('--tls-cert', pki.certFile, '--tls-key', pki.keyFile, '--log-level', 'info');
  options.policies.forEach((policy, i) => {
    const file = join(dir, `policy-${i}-${policy.name}.yaml`);
    writeFileSync(file, stringify(policyDocument(policy)));
    args.push('--policy-file', file);
  });
  const registries = options.registries ?? [];
  for (const registry of registries) if (registry.caFile !== undefined) args.push('--ca-file', registry.caFile);
  const logins = registries.flatMap((r) => (r.username !== undefined && r.password !== undefined ? [{ host: r.host, username: r.username, password: r.password }] : []));
  args.push('--registry-config', writeDockerConfig(join(dir, 'docker'), logins));
  for (const host of options.insecureRegistries ?? []) args.push('--insecure-registry', host);
  if (options.noMatch !== undefined) args.push('--no-match', options.noMatch);
  if (options.webhookTimeoutSeconds !== undefined) args.push('--webhook-timeout', String(options.webhookTimeoutSeconds));
  if (options.registryTimeoutSeconds !== undefined) args.push('--timeout', String(options.registryTimeoutSeconds));
  if (options.mutateWorkloads === true) args.push('--mutate-workloads');
  args.push(...(options.extraArgs ?? []));
  return args;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Polls /readyz until 200; throws with serve's log when it exits or never gets ready. */
async function waitUntilReady(daemon: Daemon, get: (path: string) => Promise<HttpAnswer>): Promise<'ready' | 'exited'> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (daemon.exited()) return 'exited';
    try {
      if ((await get('/readyz')).status === 200) return 'ready';
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  await daemon.stop();
  throw new Error(`sigward serve did not become ready in ${READY_TIMEOUT_MS} ms; log:\n${readLog(daemon.logFile).slice(-3000)}`);
}

interface Launched {
  readonly daemon: Daemon;
  readonly ports: { readonly port: number; readonly metricsPort: number };
  readonly args: readonly string[];
  readonly request: Request;
}

/** Starts serve on free ports until it is ready; a port taken in the meantime is retried. */
async function launch(options: ServeOptions, scratchDir: string, pki: TestPki, agent: Agent): Promise<Launched> {
  const cli = requireBuiltCli();
  for (let attempt = 1; ; attempt++) {
    const ports = { port: await freePort(), metricsPort: await freePort() };
    const args = serveArgs(scratchDir, options, pki, ports);
    const logFile = join(scratchDir, `serve-${attempt}.log`);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(scratchDir, 'home'), TMPDIR: scratchDir, HTTPS_PROXY: DEAD_PROXY, HTTP_PROXY: DEAD_PROXY, NO_PROXY: '127.0.0.1,localhost,::1' };
    const daemon = startDaemon(nodePath(), [cli, ...args], { logFile, scratchDir, env });
    const request = requester(agent, `https://127.0.0.1:${ports.port}`);
    if ((await waitUntilReady(daemon, (path) => request(path, { method: 'GET' }))) === 'ready') return { daemon, ports, args, request };
    const log = readLog(logFile);
    if (attempt < 3 && /EADDRINUSE|address already in use/.test(log)) continue;
    throw new Error(`sigward serve exited at start; args: ${args.join(' ')}\nlog:\n${log.slice(-3000)}`);
  }
}

/** Starts `sigward serve` on free loopback ports and waits for /readyz. */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const scratch = makeTempDir('serve');
  let agent: Agent | undefined;
  try {
    const pki = await makeTestPki(scratch.dir);
    agent = new Agent({ connect: { ca: readFileSync(pki.caFile, 'utf8') }, keepAliveTimeout: 2000 });
    const launched = await launch(options, scratch.dir, pki, agent);
    return serveProcess(launched, pki.caFile, agent, scratch.remove);
  } catch (err) {
    await agent?.close();
    scratch.remove();
    throw err;
  }
}

function serveProcess(launched: Launched, caFile: string, agent: Agent, removeScratch: () => void): ServeProcess {
  const { daemon, ports, args, request } = launched;
  const get = (path: string) => request(path, { method: 'GET' });
  const post = (path: string, body: unknown) =>
    request(path, { method: 'POST', body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });
  return {
    origin: `https://127.0.0.1:${ports.port}`,
    ...ports,
    pid: daemon.pid,
    logFile: daemon.logFile,
    caFile,
    args,
    post,
    get,
    async admit(path, review) {
      return reviewResponse(path, await post(path, review));
    },
    admitHeld(path, review, release) {
      const held = heldBody(Buffer.from(JSON.stringify(review)), release);
      const response = request(path, { method: 'POST', body: held.body }).then((answer) => reviewResponse(path, answer));
      return { started: held.started, response };
    },
    async metrics() {
      const response = await fetch(`http://127.0.0.1:${ports.metricsPort}/metrics`, { dispatcher: agent, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`GET /metrics: HTTP ${response.status}: ${text.slice(0, 300)}`);
      return text;
    },
    log: () => readLog(daemon.logFile),
    exited: () => daemon.exited(),
    async stop() {
      await daemon.stop();
      await agent.close();
      removeScratch();
    },
  };
}

