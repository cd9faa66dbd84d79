/**
 * A real Kubernetes control plane on loopback for end-to-end tests: kine (the etcd API over
 * SQLite) as storage and kube-apiserver in front of it, both built by scripts/kube-tools.sh.
 * There are no nodes and no controllers: pods are admitted (through every admission plugin and
 * webhook) and then stay Pending, which is all an admission controller's tests need.
 *
 * The test user is a static token in group system:masters; authorization is Node,RBAC as in a
 * real cluster. The ServiceAccount admission plugin is off because no controller creates the
 * `default` service account that it would demand of every pod.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { makeTempDir, runChecked, runCommand, sleep, startDaemon, type CommandResult, type Daemon, type DaemonOptions } from './process.js';
import { makeTestPki } from './tls.js';
import { REPO_ROOT, toolPath } from './tools.js';
import { freePort } from './net.js';

export { freePort };

export interface KubeOptions {
  /** Where logs, certificates, the kubeconfig and kine's database go; a removed temp dir when absent. */
  readonly dataDir?: string;
  /** How long to wait for /readyz on each start. Default 120 s. */
  readonly readyTimeoutMs?: number;
}

export interface KubectlOptions {
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

export interface KubeCluster {
  readonly kubeconfig: string;
  /** https://127.0.0.1:<port> */
  readonly server: string;
  /** Bearer token of a system:masters user. */
  readonly token: string;
  /** CA that signed the apiserver's serving certificate. */
  readonly caFile: string;
  /** Runs the harness's kubectl against this cluster; never rejects on a non-zero exit. */
  kubectl(args: readonly string[], options?: KubectlOptions): Promise<CommandResult>;
  /** Stops and starts kube-apiserver on the same port; kine and its data stay. */
  restart(): Promise<void>;
  /** Kills both process groups and removes the temp dir (a caller's dataDir is kept). */
  stop(): Promise<void>;
}

export interface KubeTools {
  readonly apiserver: string;
  readonly kubectl: string;
  readonly kine: string;
}

const TOOL_VARIABLES = { apiserver: 'SIGWARD_KUBE_APISERVER', kubectl: 'SIGWARD_KUBECTL', kine: 'SIGWARD_KINE' } as const;
const DEFAULT_READY_TIMEOUT_MS = 120_000;
const LOG_TAIL_LINES = 40;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The three binaries: $SIGWARD_* variables win, else `kube-tools.sh env` names the cached build. */
export function kubeTools(): KubeTools {
  const text = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'kube-tools.sh'), 'env'], { encoding: 'utf8', timeout: 30_000 });
  const fromScript = new Map<string, string>();
  for (const match of text.matchAll(/^export (SIGWARD_[A-Z_]+)='([^']*)'$/gm)) {
    if (match[1] !== undefined && match[2] !== undefined) fromScript.set(match[1], match[2]);
  }
  const pick = (variable: string): string => {
    const path = process.env[variable] ?? fromScript.get(variable) ?? '';
    if (!isExecutable(path)) {
      throw new Error(`e2e peer ${variable} is missing (looked at '${path}'); build it with: bash scripts/tools.sh kube`);
    }
    return path;
  };
  return { apiserver: pick(TOOL_VARIABLES.apiserver), kubectl: pick(TOOL_VARIABLES.kubectl), kine: pick(TOOL_VARIABLES.kine) };
}


function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n');
  } catch {
    return '(no log)';
  }
}

/** GET with the test token over the test CA; resolves with the status code, 0 when unreachable. */
function probe(url: string, ca: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => { resolve(0); });
    req.end();
  });
}

/** Polls until every url answers 200, failing early (with the log) if the daemon dies. */
async function waitReady(what: string, daemon: Daemon, urls: readonly string[], ca: string, token: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const url of urls) {
    for (;;) {
      if (daemon.exited()) throw new Error(`${what} exited while starting; last lines of ${daemon.logFile}:\n${logTail(daemon.logFile)}`);
      const last = await probe(url, ca, token);
      if (last === 200) break;
      if (Date.now() > deadline) {
        throw new Error(`${what} not ready after ${timeoutMs} ms (${url} answered ${last || 'nothing'}); last lines of ${daemon.logFile}:\n${logTail(daemon.logFile)}`);
      }
      await sleep(250);
    }
  }
}

/** Waits for kine's "available at" line: printed only once its listener is bound, so it proves
 * that this kine (not some other process that took the port first) serves the port. */
async function waitKineListening(daemon: Daemon, port: number, timeoutMs: number): Promise<void> {
  const line = `Kine available at http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (daemon.exited()) throw new Error(`kine exited while starting; last lines of ${daemon.logFile}:\n${logTail(daemon.logFile)}`);
    if (logTail(daemon.logFile).includes(line)) return;
    if (Date.now() > deadline) throw new Error(`kine not listening on ${port} after ${timeoutMs} ms:\n${logTail(daemon.logFile)}`);
    await sleep(100);
  }
}

/** Runs `start` on a port that was free; if another process bound it first (the daemon's log says
 * so), tries again on a new one, at most three times. */
async function onFreePort(logFile: string, start: (port: number) => Promise<void>): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      await start(port);
      return port;
    } catch (err) {
      if (attempt >= 3 || !logTail(logFile).includes('address already in use')) throw err;
    }
  }
}

/** Starts kine and kube-apiserver on free loopback ports and waits until the API is ready and
 * namespace `default` exists. On any failure everything started so far is stopped. */
export async function startKube(options: KubeOptions = {}): Promise<KubeCluster> {
  const tools = kubeTools();
  const temp = options.dataDir === undefined ? makeTempDir('kube') : undefined;
  const dir = options.dataDir ?? temp?.dir ?? '';
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const pkiDir = join(dir, 'pki');
  const kineDir = join(dir, 'kine');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(kineDir, { recursive: true });

  // If the test process dies without stop(), the daemon's guard kills it and removes our temp dir.
  const daemonOptions = (log: string): DaemonOptions =>
    temp === undefined ? { logFile: join(dir, log) } : { logFile: join(dir, log), scratchDir: temp.dir };
  let kine: Daemon | undefined;
  let apiserver: Daemon | undefined;
  const stopAll = async (): Promise<void> => {
    await apiserver?.stop();
    await kine?.stop();
  };

  try {
    const pki = await makeTestPki(pkiDir);
    const saKey = join(pkiDir, 'service-account.key');
    await runChecked(toolPath('openssl'), ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', saKey], { timeoutMs: 20_000 });
    const token = (await runChecked(toolPath('openssl'), ['rand', '-hex', '24'])).stdout.trim();
    const tokenFile = join(pkiDir, 'tokens.csv');
    writeFileSync(tokenFile, `${token},sigward-e2e-admin,sigward-e2e-admin,"system:masters"\n`, { mode: 0o600 });

    const kinePort = await onFreePort(join(dir, 'kine.log'), async (candidate) => {
      kine = startDaemon(tools.kine, [
        `--listen-address=127.0.0.1:${candidate}`,
        `--endpoint=sqlite://${kineDir}/state.db?_journal_mode=WAL&_busy_timeout=30000&_synchronous=NORMAL&_txlock=immediate&cache=shared`,
        '--metrics-bind-address=0', // its default is :8080 on every interface
      ], daemonOptions('kine.log'));
      await waitKineListening(kine, candidate, 30_000);
    });

    const ca = readFileSync(pki.caFile, 'utf8');
    const apiserverArgs = (port: number): string[] => [
      `--etcd-servers=http://127.0.0.1:${kinePort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // The endpoint reconciler refuses a loopback advertise address; nothing here needs the
      // `kubernetes` Service's endpoints (no pods run), so it is turned off.
      '--endpoint-reconciler-type=none',
      `--secure-port=${port}`,
      `--tls-cert-file=${pki.certFile}`,
      `--tls-private-key-file=${pki.keyFile}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=Node,RBAC',
      '--disable-admission-plugins=ServiceAccount',
      '--service-cluster-ip-range=10.96.0.0/16',
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      '--profiling=false',
      '--v=1',
    ];
    // Ready means /readyz (storage, RBAC bootstrap, every post-start hook) and namespace `default`.
    const startApiserver = async (port: number): Promise<void> => {
      const base = `https://127.0.0.1:${port}`;
      apiserver = startDaemon(tools.apiserver, apiserverArgs(port), daemonOptions('apiserver.log'));
      await waitReady('kube-apiserver', apiserver, [`${base}/readyz`, `${base}/api/v1/namespaces/default`], ca, token, readyTimeoutMs);
    };
    const port = await onFreePort(join(dir, 'apiserver.log'), startApiserver);
    const server = `https://127.0.0.1:${port}`;

    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: sigward-e2e\n  cluster:\n    server: ${server}\n    certificate-authority: ${pki.caFile}`,
      'users:',
      `- name: sigward-e2e-admin\n  user:\n    token: ${token}`,
      'contexts:',
      '- name: sigward-e2e\n  context:\n    cluster: sigward-e2e\n    user: sigward-e2e-admin\n    namespace: default',
      'current-context: sigward-e2e',
      '',
    ].join('\n'), { mode: 0o600 });

    const cacheDir = join(dir, 'kubectl-cache');
    return {
      kubeconfig,
      server,
      token,
      caFile: pki.caFile,
      kubectl: (args, opts = {}) =>
        runCommand(tools.kubectl, [`--kubeconfig=${kubeconfig}`, `--cache-dir=${cacheDir}`, ...args], {
          input: opts.stdin,
          timeoutMs: opts.timeoutMs ?? 60_000,
        }),
      async restart() {
        await apiserver?.stop();
        await startApiserver(port);
      },
      async stop() {
        await stopAll();
        temp?.remove();
      },
    };
  } catch (err) {
    await stopAll();
    temp?.remove();
    throw err;
  }
}
