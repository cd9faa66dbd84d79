/**
 * `sigward serve --watch-crds` as a cluster meets it: a child process reading policies from a
 * real kube-apiserver through a kubeconfig, serving HTTPS with an openssl certificate for
 * 127.0.0.1 whose CA goes into the webhook configurations' caBundle, registered as both the
 * validating and the mutating webhook (by `url:`, as for a webhook outside the cluster).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { writeDockerConfig } from './docker-config.js';
import { makeTempDir, sleep, startDaemon, type Daemon } from './process.js';
import { freePort } from './serve.js';
import { requireBuiltCli } from './sigward.js';
import { makeTestPki } from './tls.js';
import { nodePath } from './tools.js';

const DEAD_PROXY = 'http://127.0.0.1:9';

export interface ClusterServeOptions {
  readonly kubeconfig: string;
  /** sigward's own namespace ($POD_NAMESPACE). */
  readonly namespace: string;
  /** `--ca-file` for each registry CA. */
  readonly caFiles: readonly string[];
  /** More serve flags (`--pull-secret NAME`, `--scan-interval 2s`, …). */
  readonly args?: readonly string[];
}

export interface ClusterServe {
  readonly port: number;
  /** Base64 of the CA that signed the webhook's certificate, for `clientConfig.caBundle`. */
  readonly caBundle: string;
  /** GET on the webhook port; resolves with the status (0 when nothing answers). */
  status(path: string): Promise<number>;
  log(): string;
  exited(): boolean;
  stop(): Promise<void>;
}

export async function startClusterServe(options: ClusterServeOptions): Promise<ClusterServe> {
  const scratch = makeTempDir('serve-cluster');
  const pki = await makeTestPki(scratch.dir);
  const port = await freePort();
  const args = [
    requireBuiltCli(), 'serve', '--watch-crds', '--kubeconfig', options.kubeconfig,
    '--host', '127.0.0.1', '--port', String(port), '--metrics-port', 'off',
    '--tls-cert', pki.certFile, '--tls-key', pki.keyFile, '--log-level', 'debug',
    // No credentials of its own: registry access comes from pull secrets in the cluster.
    '--registry-config', writeDockerConfig(join(scratch.dir, 'docker'), []),
    ...options.caFiles.flatMap((file) => ['--ca-file', file]),
    ...(options.args ?? []),
  ];
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(scratch.dir, 'home'), TMPDIR: scratch.dir, POD_NAMESPACE: options.namespace,
    HTTPS_PROXY: DEAD_PROXY, HTTP_PROXY: DEAD_PROXY, NO_PROXY: '127.0.0.1,localhost,::1',
  };
  const logFile = join(scratch.dir, 'serve.log');
  const daemon: Daemon = startDaemon(nodePath(), args, { logFile, scratchDir: scratch.dir, env });
  const ca = readFileSync(pki.caFile, 'utf8');
  const log = (): string => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  const status = (path: string): Promise<number> =>
    new Promise((resolve) => {
      const req = request(`https://127.0.0.1:${port}${path}`, { ca, timeout: 5000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => { resolve(0); });
      req.end();
    });
  const deadline = Date.now() + 60_000;
  while ((await status('/healthz')) !== 200) {
    if (daemon.exited() || Date.now() > deadline) {
      await daemon.stop();
      const text = log();
      scratch.remove();
      throw new Error(`sigward serve --watch-crds did not start; log:\n${text.slice(-4000)}`);
    }
    await sleep(100);
  }
  return {
    port,
    caBundle: Buffer.from(ca).toString('base64'),
    status,
    log,
    exited: () => daemon.exited(),
    async stop() {
      await daemon.stop();
      scratch.remove();
    },
  };
}

/** Validating and mutating webhook configurations for pods in namespaces labelled `label=true`. */
export function webhookConfigurations(port: number, caBundle: string, label: string, failurePolicy: 'Fail' | 'Ignore' = 'Fail'): Record<string, unknown>[] {
  const common = {
    admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy, timeoutSeconds: 15,
    namespaceSelector: { matchLabels: { [label]: 'true' } },
    rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
  };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'sigward-e2e' },
      webhooks: [{ ...common, name: 'pin.sigward.dev', reinvocationPolicy: 'IfNeeded', clientConfig: { url: `https://127.0.0.1:${port}/mutate`, caBundle } }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'sigward-e2e' },
      webhooks: [{ ...common, name: 'verify.sigward.dev', clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle } }],
    },
  ];
}

/**
 * A stand-in for the wgpolicyk8s.io PolicyReport CRD (group, version, kind, plural and scope as
 * the real one; its schema left open), so the tests need no file from outside the project.
 */
export function policyReportCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'policyreports.wgpolicyk8s.io' },
    spec: {
      group: 'wgpolicyk8s.io', scope: 'Namespaced',
      names: { kind: 'PolicyReport', listKind: 'PolicyReportList', plural: 'policyreports', singular: 'policyreport', shortNames: ['polr'] },
      versions: [{
        name: 'v1alpha2', served: true, storage: true,
        schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
      }],
    },
  };
}
