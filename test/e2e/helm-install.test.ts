/* eslint-disable @typescript-eslint/no-explicit-any -- kubectl's JSON output is read as untyped documents */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseAllDocuments } from 'yaml';
import { buildImage } from '../support/image.js';
import { startKube, type KubeCluster } from '../support/kube.js';
import { makeTempDir, runCommand } from '../support/process.js';
import { REPO_ROOT, toolPath } from '../support/tools.js';

// The chart as a cluster admin meets it: rendered and applied with the API server's own
// server-side dry run, then `helm install`ed and upgraded against a real kube-apiserver.
const CHART = join(REPO_ROOT, 'charts', 'sigward');
const NAMESPACE = 'sigward-system';
const RELEASE = 'sigward';

let cluster: KubeCluster;
let scratch: { dir: string; remove: () => void };
/** The digest of the image scripts/image.sh built from this tree: what the chart installs. */
let digest: string;

async function helm(args: readonly string[]) {
  const home = join(scratch.dir, 'helm');
  return runCommand(toolPath('helm'), [...args, '--kubeconfig', cluster.kubeconfig], {
    env: { HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data') },
    timeoutMs: 120_000,
  });
}

async function kubectlJson(args: readonly string[]): Promise<Record<string, any>> {
  const result = await cluster.kubectl([...args, '-o', 'json']);
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout) as Record<string, any>;
}

beforeAll(async () => {
  scratch = makeTempDir('helm-install');
  digest = (await buildImage()).digest;
  cluster = await startKube();
}, 25 * 60_000);

afterAll(async () => {
  await cluster.stop();
  scratch.remove();
});

describe('the Helm chart on a real API server', () => {
  it('renders manifests the API server accepts in a server-side dry run', async () => {
    const rendered = await helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, '--include-crds', '--kube-version', '1.37.2']);
    expect(rendered.stderr).toBe('');
    expect(rendered.code).toBe(0);
    const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as Record<string, any> | null).filter((o) => o !== null);
    expect(objects.length).toBeGreaterThan(10);
    // CRDs first, so the dry run of the rest knows their kinds; the namespace must exist for namespaced objects.
    const file = join(scratch.dir, 'rendered.yaml');
    writeFileSync(file, rendered.stdout);
    const crds = await cluster.kubectl(['apply', '--server-side', '-f', join(CHART, 'crds')]);
    expect(crds.code).toBe(0);
    await cluster.kubectl(['create', 'namespace', NAMESPACE]);
    const dryRun = await cluster.kubectl(['apply', '--server-side', '--dry-run=server', '-f', file]);
    expect(dryRun.stderr).toBe('');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/\S+ serverside-applied \(server dry run\)/);
  });

  it('installs with helm, pinned to the image just built, and creates every object', async () => {
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const install = await helm(['install', RELEASE, CHART, '--namespace', NAMESPACE, '--set', `image.digest=${digest}`]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    const deployment = await kubectlJson(['-n', NAMESPACE, 'get', 'deployment', RELEASE]);
    expect(deployment.spec.replicas).toBe(2);
    expect(deployment.spec.template.spec.containers[0].image).toMatch(new RegExp(`@${digest}$`));
    for (const [kind, name] of [
      ['service', RELEASE], ['serviceaccount', RELEASE], ['poddisruptionbudget', RELEASE], ['secret', `${RELEASE}-tls`],
      ['role', RELEASE], ['rolebinding', RELEASE],
    ] as const) {
      expect((await cluster.kubectl(['-n', NAMESPACE, 'get', kind, name])).code).toBe(0);
    }
    for (const [kind, name] of [
      ['clusterrole', RELEASE], ['clusterrolebinding', RELEASE], ['crd', 'clusterimagepolicies.sigward.dev'], ['crd', 'imagepolicies.sigward.dev'],
      ['crd', 'policyreports.wgpolicyk8s.io'],
    ] as const) {
      expect((await cluster.kubectl(['get', kind, name])).code).toBe(0);
    }
    const validating = await kubectlJson(['get', 'validatingwebhookconfigurations', '-l', 'app.kubernetes.io/name=sigward']);
    const webhook = validating.items[0].webhooks[0];
    // No sigward replica runs here (no kubelet), so none has armed them: they stay at Ignore.
    expect(webhook.failurePolicy).toBe('Ignore');
    expect(webhook.namespaceSelector.matchExpressions).toEqual(expect.arrayContaining([
      expect.objectContaining({ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: expect.arrayContaining(['kube-system', NAMESPACE]) }),
    ]));
  });

  it('keeps the generated certificate and its caBundle across an upgrade', async () => {
    const before = await kubectlJson(['-n', NAMESPACE, 'get', 'secret', `${RELEASE}-tls`]);
    const upgrade = await helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--set', 'noMatch=warn']);
    expect(upgrade.code).toBe(0);
    const after = await kubectlJson(['-n', NAMESPACE, 'get', 'secret', `${RELEASE}-tls`]);
    expect(after.data['tls.crt']).toBe(before.data['tls.crt']);
    expect(after.data['ca.crt']).toBe(before.data['ca.crt']);
    const mutating = await kubectlJson(['get', 'mutatingwebhookconfigurations', '-l', 'app.kubernetes.io/name=sigward']);
    expect(mutating.items[0].webhooks[0].clientConfig.caBundle).toBe(before.data['ca.crt']);
    expect(mutating.items[0].webhooks[0].reinvocationPolicy).toBe('IfNeeded');
  });

  /** Creates a pod in `default` (no kubelet runs it); the exit code and stderr of kubectl. */
  let pods = 0;
  async function createPod(): Promise<{ code: number; stderr: string }> {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: `window-${++pods}`, namespace: 'default' }, spec: { containers: [{ name: 'app', image: 'registry.example.com/app:1' }] } };
    return cluster.kubectl(['create', '-f', '-'], { stdin: JSON.stringify(pod) });
  }

  /** Polls until `check` holds (the API server picks webhook changes up within a moment). */
  async function until(what: string, check: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it('admits pods while no replica is ready, and once armed refuses them, and an upgrade keeps it armed', async () => {
    // The install window, held open: no replica ever becomes ready here. Pods are admitted.
    await until('pods to be admitted while sigward is not ready', async () => (await createPod()).code === 0);
    // What a ready replica does (serve --arm-webhooks): Fail on every webhook. The webhooks are
    // live: with no replica to answer, the API server now refuses the pod.
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const armed = await cluster.kubectl(['patch', kind, RELEASE, '--type=json', '-p', JSON.stringify([{ op: 'replace', path: '/webhooks/0/failurePolicy', value: 'Fail' }])]);
      expect(armed.code).toBe(0);
    }
    await until('the armed webhook to refuse a pod', async () => {
      const attempt = await createPod();
      return attempt.code !== 0 && attempt.stderr.includes('sigward');
    });
    const upgrade = await helm(['upgrade', RELEASE, CHART, '--namespace', NAMESPACE, '--reuse-values']);
    expect(upgrade.code).toBe(0);
    for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
      const [config] = (await kubectlJson(['get', kind, '-l', 'app.kubernetes.io/name=sigward'])).items;
      expect(config.webhooks[0].failurePolicy).toBe('Fail');
    }
  });

  it('leaves no webhook configuration after the documented uninstall, and the CRDs in place', async () => {
    const deleted = await cluster.kubectl(['delete', 'validatingwebhookconfiguration,mutatingwebhookconfiguration', '-l', `app.kubernetes.io/instance=${RELEASE}`]);
    expect(deleted.code).toBe(0);
    const uninstall = await helm(['uninstall', RELEASE, '--namespace', NAMESPACE]);
    expect(uninstall.code).toBe(0);
    for (const kind of ['validatingwebhookconfigurations', 'mutatingwebhookconfigurations']) {
      expect((await kubectlJson(['get', kind, '-l', 'app.kubernetes.io/name=sigward'])).items).toEqual([]);
    }
    expect((await cluster.kubectl(['get', 'crd', 'clusterimagepolicies.sigward.dev'])).code).toBe(0);
    await until('pods to be admitted with sigward gone', async () => (await createPod()).code === 0);
  });
});
