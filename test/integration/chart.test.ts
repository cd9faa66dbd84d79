/**
 * The Helm chart, the raw manifests and the Dockerfile, checked with the real helm binary: every
 * ci/*.yaml lints strictly and renders a webhook that stays fail-closed, deadlock-free and
 * least-privileged; values that break the schema are refused naming the field; deploy/ matches
 * the chart; the image is built in stages and runs as a numeric non-root user without a shell.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, parse, parseAllDocuments, parseDocument } from 'yaml';
import { makeTempDir, runCommand, type CommandResult } from '../support/process.js';
import { makeTestPki } from '../support/tls.js';
import { REPO_ROOT, toolPath } from '../support/tools.js';

/** A parsed manifest or values tree: untyped on purpose; every field a test reads is asserted. */
type Tree = ReturnType<typeof JSON.parse>;

const CHART = join(REPO_ROOT, 'charts', 'sigward');
const [RELEASE, NAMESPACE, FULLNAME] = ['gate', 'supply-chain', 'gate-sigward'];
const SERVICE_NAMES = [FULLNAME, `${FULLNAME}.${NAMESPACE}`, `${FULLNAME}.${NAMESPACE}.svc`, `${FULLNAME}.${NAMESPACE}.svc.cluster.local`];
/** A helm built with `go install` assumes Kubernetes v1.20; name the chart's minimum instead. */
const KUBE_VERSION = ['--kube-version', '1.30.0'];
const CI_FILES = readdirSync(join(CHART, 'ci')).filter((f) => f.endsWith('.yaml')).sort();
const POD_RULES = ['/pods:CREATE', '/pods:UPDATE', '/pods/ephemeralcontainers:UPDATE'];
const WORKLOAD_RULES = ['/replicationcontrollers', '/podtemplates', 'apps/deployments', 'apps/replicasets', 'apps/statefulsets',
  'apps/daemonsets', 'batch/jobs', 'batch/cronjobs'].flatMap((r) => [`${r}:CREATE`, `${r}:UPDATE`]);

let helmBin = '';
const home = makeTempDir('helm-home');
beforeAll(() => { helmBin = toolPath('helm'); });
afterAll(() => { home.remove(); });

function helm(args: readonly string[]): Promise<CommandResult> {
  const env = { ...process.env, HELM_CACHE_HOME: join(home.dir, 'cache'), HELM_CONFIG_HOME: join(home.dir, 'config'), HELM_DATA_HOME: join(home.dir, 'data') };
  return runCommand(helmBin, args, { env, timeoutMs: 60_000 });
}

const ci = (feature: string): string[] => ['-f', join(CHART, 'ci', `${feature}-values.yaml`)];

async function render(args: readonly string[]): Promise<Tree[]> {
  const result = await helm(['template', RELEASE, CHART, '--namespace', NAMESPACE, ...KUBE_VERSION, ...args]);
  if (result.code !== 0) throw new Error(`helm template ${args.join(' ')} failed:\n${result.stderr}`);
  return parseAllDocuments(result.stdout).map((doc) => doc.toJS()).filter((o) => o !== null);
}

function pick(objects: readonly Tree[], kind: string, name?: string): Tree {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name ?? ''}, rendered ${found.length}`);
  return found[0];
}

/** The chart's values with a ci file laid over them (maps merge, lists replace, as in helm): the oracle for the render. */
function valuesWith(file: string): Tree {
  const merge = (base: Tree, over: Tree): Tree => (typeof base !== 'object' || Array.isArray(base) || typeof over !== 'object' || Array.isArray(over)
    ? over : Object.fromEntries([...Object.entries(base), ...Object.entries(over).map(([k, v]) => [k, k in base ? merge(base[k], v) : v])]));
  return merge(parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')), parse(readFileSync(join(CHART, 'ci', file), 'utf8')) ?? {});
}

const ruleKeys = (webhook: Tree): string[] => webhook.rules.flatMap((r: Tree) => r.apiGroups.flatMap((g: string) =>
  r.resources.flatMap((res: string) => r.operations.map((op: string) => `${g}/${res}:${op}`))));

/** What every render must keep, whatever the feature: checked for each ci file. */
function expectInvariants(objects: readonly Tree[], values: Tree): void {
  const deployment = pick(objects, 'Deployment', FULLNAME);
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const timeout = values.webhook.timeoutSeconds;
  expect(container.args.slice(0, 14)).toEqual(['serve', '--port', '8443', '--tls-cert', '/tls/tls.crt', '--tls-key', '/tls/tls.key',
    '--metrics-port', '9090', '--webhook-timeout', String(timeout), '--no-match', values.noMatch, '--watch-crds']);
  const args = container.args as string[];
  const armed = args.indexOf('--arm-webhooks');
  expect(armed >= 0 ? args[armed + 1] : undefined).toBe(values.webhook.failurePolicy === 'Fail' ? FULLNAME : undefined);
  const { repository, digest, tag } = values.image;
  expect(container.image).toBe(digest === '' ? `${repository}:${tag || '0.1.0'}` : `${repository}@${digest}`);
  expect(deployment.spec.replicas).toBe(values.replicas);
  expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
  expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  expect(container.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
  expect(container.ports).toContainEqual({ name: 'https', containerPort: 8443, protocol: 'TCP' });
  expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'https', scheme: 'HTTPS' });
  expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'https', scheme: 'HTTPS' });
  expect(container.resources).toMatchObject({ requests: { cpu: expect.anything(), memory: expect.anything() }, limits: { memory: expect.anything() } });
  expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  expect(pod.volumes).toEqual(expect.arrayContaining([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    { name: 'tls', secret: { secretName: `${FULLNAME}-tls`, defaultMode: 0o440 } }]));
  expect(pick(objects, 'PodDisruptionBudget', FULLNAME).spec).toMatchObject({ minAvailable: values.podDisruptionBudget.minAvailable, selector: deployment.spec.selector });
  expect(pick(objects, 'Service', FULLNAME).spec.ports).toEqual([
    { name: 'https', port: 443, targetPort: 'https', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 'metrics', protocol: 'TCP' }]);

  for (const [kind, path, rules] of [['MutatingWebhookConfiguration', '/mutate', POD_RULES], ['ValidatingWebhookConfiguration', '/validate', WORKLOAD_RULES]] as const) {
    const [webhook, ...others] = pick(objects, kind, FULLNAME).webhooks;
    expect(others).toHaveLength(0);
    // Rendered with Ignore: with failurePolicy Fail, sigward arms them once ready (--arm-webhooks), so
    // no install blocks pod creation before a replica can answer; helm template sees no cluster to keep.
    expect(webhook).toMatchObject({ failurePolicy: 'Ignore', timeoutSeconds: timeout, sideEffects: 'None',
      admissionReviewVersions: ['v1'], matchPolicy: 'Equivalent', clientConfig: { service: { name: FULLNAME, namespace: NAMESPACE, path, port: 443 } } });
    expect(webhook.namespaceSelector.matchExpressions).toEqual([
      { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', NAMESPACE, ...values.webhook.excludeNamespaces] },
      { key: values.webhook.excludeLabel, operator: 'NotIn', values: ['true'] }]);
    expect(ruleKeys(webhook)).toEqual(expect.arrayContaining([...rules, ...POD_RULES]));
    if (kind === 'MutatingWebhookConfiguration') expect(webhook.reinvocationPolicy).toBe('IfNeeded');
  }
}

describe('the chart, rendered with each ci values file', () => {
  it('has one values file per feature', () => {
    expect(CI_FILES).toEqual(expect.arrayContaining(['default', 'cert-manager', 'servicemonitor', 'networkpolicy', 'dashboard', 'policies',
      'image-digest', 'no-cross-namespace-secrets', 'warn-no-match'].map((feature) => `${feature}-values.yaml`)));
  });

  describe.each(CI_FILES)('with ci/%s', (file) => {
    it('passes helm lint --strict', async () => {
      const result = await helm(['lint', '--strict', CHART, '--namespace', NAMESPACE, '-f', join(CHART, 'ci', file)]);
      expect(`${result.code} ${result.stdout}${result.stderr}`).toMatch(/^0 .*1 chart\(s\) linted, 0 chart\(s\) failed/s);
    });

    it('renders webhooks that sigward arms fail-closed once ready, excluding kube-system and its own namespace', async () => {
      expectInvariants(await render(['-f', join(CHART, 'ci', file)]), valuesWith(file));
    });
  });
});

describe('optional features', () => {
  it('lets cert-manager issue the certificate and inject the CA when certManager.enabled', async () => {
    const objects = await render(ci('cert-manager'));
    expect(objects.filter((o) => o.kind === 'Secret')).toHaveLength(0);
    expect(pick(objects, 'Certificate', `${FULLNAME}-tls`).spec).toMatchObject({ secretName: `${FULLNAME}-tls`, dnsNames: SERVICE_NAMES });
    expect(pick(objects, 'Issuer', `${FULLNAME}-ca`).spec.ca.secretName).toBe(pick(objects, 'Certificate', `${FULLNAME}-ca`).spec.secretName);
    for (const config of [pick(objects, 'MutatingWebhookConfiguration'), pick(objects, 'ValidatingWebhookConfiguration')]) {
      expect(config.metadata.annotations['cert-manager.io/inject-ca-from']).toBe(`${NAMESPACE}/${FULLNAME}-tls`);
      expect(config.webhooks[0].clientConfig.caBundle).toBeUndefined();
    }
  });

  it('scrapes the metrics port with a ServiceMonitor, and opens it to metricsFrom only in the NetworkPolicy', async () => {
    expect(pick(await render(ci('servicemonitor')), 'ServiceMonitor').spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '15s' });
    const network = pick(await render(ci('networkpolicy')), 'NetworkPolicy').spec;
    expect(network.ingress).toEqual([{ ports: [{ port: 8443, protocol: 'TCP' }] },
      { ports: [{ port: 9090, protocol: 'TCP' }], from: valuesWith('networkpolicy-values.yaml').networkPolicy.metricsFrom }]);
    expect(network.egress).toEqual([{}]);
  });

  it('ships a Grafana dashboard of decisions, p50/p99 latency, time by phase, cache hit rate and registry errors', async () => {
    const dashboard = pick(await render(ci('dashboard')), 'ConfigMap');
    expect(dashboard.metadata).toMatchObject({ namespace: 'monitoring', labels: { grafana_dashboard: '1' } });
    const exprs = JSON.parse(dashboard.data['sigward.json']).panels.flatMap((p: Tree) => p.targets.map((t: Tree) => t.expr)).join('\n');
    for (const query of [/sum by \(decision\) \(rate\(sigward_admission_requests_total/, /histogram_quantile\(0\.5, .*sigward_admission_duration_seconds_bucket/,
      /histogram_quantile\(0\.99, .*sigward_admission_duration_seconds_bucket/, /sigward_cache_requests_total\{[^}]*result="hit"/, /sigward_registry_requests_total\{[^}]*status!~/,
      /histogram_quantile\(0\.99, sum by \(le, phase\) \(rate\(sigward_verification_phase_seconds_bucket/]) {
      expect(exprs).toMatch(query);
    }
  });

  it('passes webhook.clientCA to serve as --client-ca from a ConfigMap, and nothing of it by default', async () => {
    const objects = await render(ci('client-ca'));
    const pod = pick(objects, 'Deployment').spec.template.spec;
    const args = pod.containers[0].args as string[];
    expect(args.slice(args.indexOf('--client-ca'), args.indexOf('--client-ca') + 2)).toEqual(['--client-ca', '/client-ca/ca.crt']);
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'client-ca', mountPath: '/client-ca', readOnly: true });
    expect(pod.volumes).toContainEqual({ name: 'client-ca', configMap: { name: `${FULLNAME}-client-ca` } });
    expect(pick(objects, 'ConfigMap', `${FULLNAME}-client-ca`).data['ca.crt']).toBe(valuesWith('client-ca-values.yaml').webhook.clientCA);
    const plain = pick(await render([]), 'Deployment').spec.template.spec;
    expect(plain.containers[0].args).not.toContain('--client-ca');
    expect(plain.volumes.map((v: Tree) => v.name)).not.toContain('client-ca');
  });

  it('renders policies from values as ClusterImagePolicies, and policy files as --policy-file mounts', async () => {
    const policies = (await render(ci('policies'))).filter((o) => o.kind === 'ClusterImagePolicy');
    expect(policies.map((p) => ({ name: p.metadata.name, spec: p.spec }))).toEqual(valuesWith('policies-values.yaml').policies);
    const withFiles = await render(ci('policy-files'));
    expect(pick(withFiles, 'Deployment').spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(['--policy-file', '/policies/baseline.yaml']));
    expect(parse(pick(withFiles, 'ConfigMap', `${FULLNAME}-policies`).data['baseline.yaml']).kind).toBe('ClusterImagePolicy');
  });
});

describe('values that break the schema', () => {
  it.each([
    ['webhook.timeoutSeconds', 'webhook: {timeoutSeconds: "ten"}', /\/webhook\/timeoutSeconds/],
    ['webhook.timeoutSeconds', 'webhook: {timeoutSeconds: 31}', /\/webhook\/timeoutSeconds/],
    ['replicas', 'replicas: -1', /\/replicas/],
    ['noMatch', 'noMatch: maybe', /\/noMatch/],
    ['image.digest', 'image: {digest: latest}', /\/image\/digest/],
    ['webhook.failurePolicy', 'webhook: {failurePolicy: Sometimes}', /\/webhook\/failurePolicy/],
    ['misspelt key', 'replica: 3', /additional properties 'replica' not allowed/],
    ['policies[0].spec.authorities[0].key', 'policies: [{name: p, spec: {images: [{glob: "a/**"}], authorities: [{name: a, key: {}}]}}]', /\/policies\/0\/spec\/authorities\/0\/key/],
    ['tls with certManager.enabled', 'certManager: {enabled: true}\ntls: {caCertificate: "-----BEGIN CERTIFICATE-----", certificate: "-----BEGIN CERTIFICATE-----", key: "-----BEGIN PRIVATE KEY-----"}', /\/tls\/certificate/],
    ['tls.key alone', 'tls: {key: "-----BEGIN PRIVATE KEY-----"}', /\/tls\/certificate/],
  ])('refuses a wrong %s in lint and template, naming it', async (_field, text, message) => {
    const file = join(home.dir, `bad-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, `${text}\n`);
    for (const args of [['lint', '--strict', CHART, '-f', file], ['template', RELEASE, CHART, ...KUBE_VERSION, '-f', file]]) {
      const result = await helm(args);
      expect(result.code).not.toBe(0);
      expect(result.stdout + result.stderr).toMatch(message);
    }
  });

  it('refuses a PodDisruptionBudget that would block every drain, naming both values', async () => {
    const result = await helm(['template', RELEASE, CHART, ...KUBE_VERSION, '--set', 'podDisruptionBudget.minAvailable=2']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/podDisruptionBudget\.minAvailable \(2\) must be below replicas \(2\)/);
  });
});

describe('credential provider plugins', () => {
  it('renders the providers as a CredentialProviderConfig, copies the binaries in an init container, and passes both to serve', async () => {
    const objects = await render(ci('credential-providers'));
    const values = valuesWith('credential-providers-values.yaml');
    const config = parse(pick(objects, 'ConfigMap', `${FULLNAME}-credential-providers`).data['credential-providers.yaml']);
    expect(config).toEqual({ apiVersion: 'kubelet.config.k8s.io/v1', kind: 'CredentialProviderConfig', providers: values.credentialProviders.providers });
    const pod = pick(objects, 'Deployment').spec.template.spec;
    const args = pod.containers[0].args as string[];
    expect(args.slice(args.indexOf('--credential-provider-config'), args.indexOf('--credential-provider-config') + 4)).toEqual(
      ['--credential-provider-config', '/credential-provider-config/credential-providers.yaml', '--credential-provider-bin-dir', '/credential-providers']);
    expect(pod.initContainers).toEqual([expect.objectContaining({
      image: values.credentialProviders.image,
      command: values.credentialProviders.copyCommand,
      volumeMounts: [{ name: 'credential-providers', mountPath: '/credential-providers' }],
      securityContext: expect.objectContaining({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false }),
    })]);
    expect(pod.containers[0].volumeMounts).toEqual(expect.arrayContaining([
      { name: 'credential-providers', mountPath: '/credential-providers', readOnly: true },
      { name: 'credential-provider-config', mountPath: '/credential-provider-config', readOnly: true },
    ]));
    expect(pod.volumes).toContainEqual({ name: 'credential-providers', emptyDir: { sizeLimit: '256Mi' } });
    const plain = pick(await render([]), 'Deployment').spec.template.spec;
    expect(plain.initContainers).toBeUndefined();
    expect(plain.containers[0].args).not.toContain('--credential-provider-config');
  });

  it('mounts a given volume instead of the init container', async () => {
    const volume = { hostPath: { path: '/usr/libexec/kubernetes/kubelet-plugins/credential-provider/exec' } };
    const pod = pick(await render([...ci('credential-providers'), '--set', 'credentialProviders.image=', '--set-json', `credentialProviders.volume=${JSON.stringify(volume)}`]), 'Deployment').spec.template.spec;
    expect(pod.initContainers).toBeUndefined();
    expect(pod.volumes).toContainEqual({ name: 'credential-providers', ...volume });
  });

  it.each([
    [['--set', 'credentialProviders.image='], /credentialProviders.providers needs the plugin binaries/],
    [['--set-json', 'credentialProviders.volume={"emptyDir":{}}'], /credentialProviders.image and credentialProviders.volume are exclusive/],
    [['--set-json', 'credentialProviders.copyCommand=[]'], /credentialProviders.image needs credentialProviders.copyCommand/],
    [['--set', 'credentialProviders.providers[0].defaultCacheDuration=12 hours'], /defaultCacheDuration/],
  ])('refuses %j with a message naming the value', async (args, message) => {
    const result = await helm(['template', RELEASE, CHART, ...KUBE_VERSION, ...ci('credential-providers'), ...args]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

describe('the webhook certificate', () => {
  const tlsOf = async (args: string[]) => {
    const objects = await render(args);
    const bundles = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'].map((kind) => pick(objects, kind).webhooks[0].clientConfig.caBundle);
    expect(bundles[1]).toBe(bundles[0]);
    return { secret: pick(objects, 'Secret', `${FULLNAME}-tls`).data, caBundle: bundles[0] };
  };

  it('is the same on every render when fixed PEMs are given', async () => {
    const pki = await makeTestPki(home.dir);
    const fixed = ['--set-file', `tls.caCertificate=${pki.caFile}`, '--set-file', `tls.certificate=${pki.certFile}`, '--set-file', `tls.key=${pki.keyFile}`];
    const first = await tlsOf(fixed);
    expect(await tlsOf(fixed)).toEqual(first);
    expect(first.caBundle).toBe(readFileSync(pki.caFile).toString('base64'));
    expect(first.secret['tls.crt']).toBe(readFileSync(pki.certFile).toString('base64'));
  });

  it('is otherwise generated per install: a CA in the caBundle that signed a certificate for every Service name', async () => {
    const generated = await tlsOf([]);
    const ca = new X509Certificate(Buffer.from(generated.caBundle, 'base64'));
    const cert = new X509Certificate(Buffer.from(generated.secret['tls.crt'], 'base64'));
    expect(generated.secret['ca.crt']).toBe(generated.caBundle);
    expect(cert.checkIssued(ca) && cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(SERVICE_NAMES.map((n) => `DNS:${n}`).sort());
    expect((await tlsOf([])).caBundle).not.toBe(generated.caBundle);
  });
});

describe('RBAC', () => {
  const rules = (objects: readonly Tree[]) => objects.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((role) =>
    role.rules.map((r: Tree) => `${role.kind} ${role.metadata.name}: ${r.apiGroups.join(',')} ${r.resources.join(',')} ${r.verbs.join(',')}`)).sort();
  const MINIMAL = [
    `ClusterRole ${FULLNAME}: sigward.dev clusterimagepolicies,imagepolicies,imageexemptions get,list,watch`,
    `ClusterRole ${FULLNAME}: sigward.dev clusterimagepolicies/status,imagepolicies/status,imageexemptions/status patch,update`,
    `ClusterRole ${FULLNAME}:  namespaces get,list,watch`,
    `ClusterRole ${FULLNAME}:  serviceaccounts get`,
    `ClusterRole ${FULLNAME}: ,events.k8s.io events create,patch`,
    `ClusterRole ${FULLNAME}: wgpolicyk8s.io policyreports get,list,create,update,delete`,
    `ClusterRole ${FULLNAME}: openreports.io reports get,list,create,update,delete`,
    `Role ${FULLNAME}:  secrets get,list,watch`,
  ];
  const SCAN = `ClusterRole ${FULLNAME}:  pods list`;
  const ARM = `ClusterRole ${FULLNAME}: admissionregistration.k8s.io validatingwebhookconfigurations,mutatingwebhookconfigurations get,patch`;
  const ACROSS = `ClusterRole ${FULLNAME}-pull-secrets:  secrets get,list,watch`;

  it('grants exactly the minimal rules, reading Secrets outside its namespace only when enabled', async () => {
    expect(rules(await render([]))).toEqual([...MINIMAL, SCAN, ACROSS, ARM].sort());
    expect(rules(await render(ci('no-cross-namespace-secrets')))).toEqual([...MINIMAL, SCAN, ARM].sort());
  });

  it('lists pods cluster-wide only while the background scan is on', async () => {
    expect(rules(await render(['--set', 'scan.interval=0']))).toEqual([...MINIMAL, ACROSS, ARM].sort());
  });

  it('may patch only its own webhook configurations, and only when it is to arm them', async () => {
    const arming = pick(await render([]), 'ClusterRole', FULLNAME).rules.find((r: Tree) => r.apiGroups.includes('admissionregistration.k8s.io'));
    expect(arming.resourceNames).toEqual([FULLNAME]);
    expect(rules(await render(['--set', 'webhook.failurePolicy=Ignore']))).not.toContain(ARM);
  });

  it('passes the switches to serve as flags', async () => {
    const args = (objects: readonly Tree[]) => pick(objects, 'Deployment').spec.template.spec.containers[0].args as string[];
    expect(args(await render([]))).toEqual(expect.arrayContaining(['--watch-crds', '--scan-interval', '10m']));
    expect(args(await render([]))).not.toContain('--no-pull-secrets-across-namespaces');
    expect(args(await render(ci('no-cross-namespace-secrets')))).toContain('--no-pull-secrets-across-namespaces');
    expect(args(await render(['--set', 'reports.api=openreports', '--set', 'pullSecrets.global=regcred']))).toEqual(
      expect.arrayContaining(['--report-api', 'openreports', '--pull-secret', 'regcred']));
  });
});

describe('deploy/', () => {
  it('matches a fresh render of the chart by scripts/render-deploy.sh', async () => {
    const out = join(home.dir, 'deploy');
    const result = await runCommand('bash', [join(REPO_ROOT, 'scripts', 'render-deploy.sh'), '--output', out], { env: { ...process.env, SIGWARD_HELM: helmBin } });
    expect(result.code).toBe(0);
    const files = readdirSync(out).sort();
    expect(readdirSync(join(REPO_ROOT, 'deploy')).filter((f) => f.endsWith('.yaml')).sort()).toEqual(files);
    for (const file of files) expect(`${file}:\n${readFileSync(join(REPO_ROOT, 'deploy', file), 'utf8')}`).toBe(`${file}:\n${readFileSync(join(out, file), 'utf8')}`);
    const crds = parseAllDocuments(readFileSync(join(out, '00-crds.yaml'), 'utf8')).map((d) => d.toJS());
    expect(crds.map((c) => c.metadata.name)).toEqual(['clusterimagepolicies.sigward.dev', 'imageexemptions.sigward.dev', 'imagepolicies.sigward.dev']);
  });
});

describe('the ImageExemption CRD', () => {
  it('is cluster-scoped, requires images, a reason and an expiry, and refuses moving the expiry', () => {
    const crd = parse(readFileSync(join(CHART, 'crds', 'imageexemptions.sigward.dev.yaml'), 'utf8'));
    expect(crd.spec).toMatchObject({ group: 'sigward.dev', scope: 'Cluster', names: { plural: 'imageexemptions', kind: 'ImageExemption' } });
    const spec = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    expect(spec.required).toEqual(['images', 'reason', 'expires']);
    expect(spec.properties.expires).toMatchObject({ type: 'string', format: 'date-time', 'x-kubernetes-validations': [{ rule: 'self == oldSelf' }] });
    expect(spec.properties.images.items['x-kubernetes-validations']).toEqual([expect.objectContaining({ rule: 'has(self.glob) != has(self.digest)' })]);
  });
});

describe('the policy CRDs', () => {
  /** Paths of schema nodes without a type: a structural schema (which CRDs require) has none. */
  const untyped = (node: Tree, path: string): string[] => [...(node.type === undefined ? [path] : []),
    ...Object.entries(node.properties ?? {}).flatMap(([k, v]) => untyped(v, `${path}.${k}`)), ...(node.items ? untyped(node.items, `${path}[]`) : []),
    ...(typeof node.additionalProperties === 'object' ? untyped(node.additionalProperties, `${path}{}`) : [])];

  it.each([['clusterimagepolicies', 'Cluster'], ['imagepolicies', 'Namespaced']])('%s serves the policy contract of sigward.dev/v1alpha1', (plural, scope) => {
    const crd = parse(readFileSync(join(CHART, 'crds', `${plural}.sigward.dev.yaml`), 'utf8'));
    expect(crd.spec).toMatchObject({ group: 'sigward.dev', scope, names: { plural } });
    expect(crd.spec.versions).toEqual([expect.objectContaining({ name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } })]);
    const version = crd.spec.versions[0];
    expect(version.additionalPrinterColumns.map((c: Tree) => `${c.name}=${c.jsonPath}`)).toEqual(['Mode=.spec.mode', 'Images=.spec.images[*].glob',
      'Ready=.status.conditions[?(@.type=="Ready")].status', 'Age=.metadata.creationTimestamp']);
    const root = version.schema.openAPIV3Schema;
    expect(untyped(root, '')).toEqual([]);
    const spec = root.properties.spec;
    expect(spec).toMatchObject({ required: ['images', 'authorities'], properties: {
      images: { minItems: 1, items: { required: ['glob'], properties: { glob: { type: 'string' } } } },
      mode: { enum: ['enforce', 'warn', 'audit'], default: 'enforce' }, threshold: { type: 'integer', minimum: 1, default: 1 },
      authorities: { minItems: 1, items: { required: ['name'], properties: { annotations: { additionalProperties: { type: 'string' } } } } } } });
    expect('namespaceSelector' in spec.properties).toBe(scope === 'Cluster');
    const items = spec.properties.authorities.items;
    const authority = items.properties;
    expect(Object.keys(authority)).toEqual(['name', 'key', 'keyless', 'rekor', 'attestations', 'signatureRepository', 'signaturePullSecrets', 'annotations']);
    expect(authority.signaturePullSecrets).toMatchObject({ type: 'array', maxItems: 8, items: { required: ['name'], properties: { name: { type: 'string' } } } });
    expect(Object.keys(authority.key.properties.secretRef.properties)).toEqual(['name', 'namespace', 'key']);
    expect([...spec['x-kubernetes-validations'], ...items['x-kubernetes-validations'], ...authority.key['x-kubernetes-validations'],
      ...authority.keyless['x-kubernetes-validations']].map((v: Tree) => v.rule)).toEqual([
      '!has(self.threshold) || self.threshold <= size(self.authorities)', 'self.authorities.all(a, self.authorities.exists_one(b, b.name == a.name))',
      'has(self.key) != has(self.keyless)', '!has(self.rekor) || has(self.key)',
      'has(self.data) != has(self.secretRef)', 'has(self.subject) != has(self.subjectRegExp)']);
    expect(Object.keys(root.properties.status.properties.conditions.items.properties).sort()).toEqual(
      ['lastTransitionTime', 'message', 'observedGeneration', 'reason', 'status', 'type']);
  });
});

describe('values.yaml', () => {
  /** [path, documented] for each key: a `# --` comment documents a key and everything below it;
   * any other key must be a map whose keys are documented. (The yaml parser keeps the comment of a
   * map's first key on the map itself.) */
  const valueKeys = (map: Tree, prefix: string): [string, boolean][] => map.items.flatMap((pair: Tree, i: number) => {
    const path = `${prefix}${String(pair.key.value)}`;
    if (/^ ?-- /m.test(pair.key.commentBefore ?? (i === 0 ? map.commentBefore : '') ?? '')) return [[path, true]];
    return isMap(pair.value) ? valueKeys(pair.value, `${path}.`) : [[path, false]];
  });

  it('documents every value with a "# --" comment, in the README table and in the strict schema', () => {
    const keys = valueKeys(parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8')).contents, '');
    expect(keys.filter(([, documented]) => !documented)).toEqual([]);
    const paths = keys.map(([path]) => path);
    expect(paths.length).toBeGreaterThan(50);
    const readme = readFileSync(join(CHART, 'README.md'), 'utf8');
    expect(paths.filter((path) => !readme.includes(`| \`${path}\` |`))).toEqual([]);
    const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8'));
    const strict = (path: string) => path.split('.').reduce<Tree>((node, key) => (node?.additionalProperties === false ? node.properties[key] : undefined), schema);
    expect(paths.filter((path) => strict(path) === undefined)).toEqual([]);
  });
});

describe('the Dockerfile', () => {
  const instructions = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ').split('\n')
    .map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  // Global build arguments (before the first FROM) with their defaults: the bases a plain `docker build` uses.
  const firstFrom = instructions.findIndex((l) => l.startsWith('FROM '));
  const defaults = Object.fromEntries(instructions.slice(0, firstFrom).flatMap((l) => /^ARG (\w+)=(\S+)$/.exec(l)?.slice(1, 3) ?? []).reduce<[string, string][]>(
    (pairs, value, i, all) => (i % 2 === 0 ? [...pairs, [value, all[i + 1]!]] : pairs), []));
  const withDefaults = (line: string): string => line.replace(/\$\{(\w+)\}/g, (whole, name: string) => defaults[name] ?? whole);
  const stages = instructions.slice(firstFrom).reduce<string[][]>((all, line) => (line.startsWith('FROM ') ? [...all, [withDefaults(line)]] : (all.at(-1)?.push(line), all)), []);
  const runtime = stages.at(-1) ?? [];

  it('builds in stages on Node 24 and installs production dependencies from the lockfile into a clean folder', () => {
    expect(Object.keys(defaults).sort()).toEqual(['BUILD_IMAGE', 'RUNTIME_IMAGE']);
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.slice(0, -1).map((s) => s[0])).toEqual(stages.slice(0, -1).map(() => expect.stringMatching(/^FROM node:24-bookworm-slim AS \w/)));
    expect(runtime[0]).toBe('FROM gcr.io/distroless/nodejs24-debian12:nonroot');
    expect(instructions).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev /));
    expect(instructions).toContainEqual(expect.stringMatching(/^RUN npm run build( |$)/));
  });

  it('runs as a numeric non-root user with no shell step in the distroless runtime stage', () => {
    expect(runtime.filter((l) => l.startsWith('USER '))).toEqual([expect.stringMatching(/^USER [1-9]\d*:[1-9]\d*$/)]);
    expect(runtime.filter((l) => /^(RUN|SHELL) /.test(l))).toEqual([]);
    expect(runtime).toEqual(expect.arrayContaining(['ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=16", "/app/dist/cli/main.js"]', 'CMD ["serve"]', 'EXPOSE 8443 9090', 'ARG VERSION=0.1.0']));
    const labels = runtime.filter((l) => l.startsWith('LABEL ')).join(' ');
    for (const key of ['title', 'description', 'source', 'licenses']) expect(labels).toMatch(new RegExp(`org\\.opencontainers\\.image\\.${key}="[^"]+"`));
    expect(labels).toContain('org.opencontainers.image.version="${VERSION}"');
    expect(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n')).toContain('**');
  });
});
