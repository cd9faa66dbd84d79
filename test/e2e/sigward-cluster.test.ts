/**
 * sigward in a real cluster: kube-apiserver (over kine) on loopback, the chart's CRDs, real
 * registries with htpasswd, images signed by the real cosign, and `sigward serve --watch-crds`
 * as a child process registered as the mutating and validating webhook. Everything a person
 * would do goes through kubectl: policies are applied and edited, Secrets rotated, pods created,
 * and the API server restarted under sigward's feet.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, type CosignKeyPair } from '../support/cosign.js';
import { startKube, type KubeCluster } from '../support/kube.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { pushImage, type TestImage } from '../support/signed-images.js';
import { policyReportCrd, startClusterServe, webhookConfigurations, type ClusterServe } from '../support/sigward-cluster.js';
import { runSigward } from '../support/sigward.js';
import { REPO_ROOT } from '../support/tools.js';

const OWN = 'sigward-system';
const APPS = 'apps';
const LABEL = 'sigward-e2e';
const scratch = makeTempDir('e2e-cluster');
let cluster: KubeCluster;
let registry: TestRegistry;
let privateRegistry: TestRegistry;
let sigward: ClusterServe;
let release: CosignKeyPair;
let next: CosignKeyPair;
const images: Record<'signed' | 'unsigned' | 'rotating' | 'auditedBad' | 'auditedOk' | 'private' | 'team' | 'sigpull', TestImage> = {} as never;

async function kubectl(args: readonly string[], stdin?: string): Promise<string> {
  const result = await cluster.kubectl(args, stdin === undefined ? {} : { stdin });
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

const apply = (object: unknown): Promise<string> => kubectl(['apply', '-f', '-'], JSON.stringify(object));

/** Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; sigward log tail:\n${sigward.log().slice(-3000)}`);
    await sleep(200);
  }
}

function pod(name: string, image: string, pullSecret?: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: APPS },
    spec: { containers: [{ name: 'app', image }], ...(pullSecret === undefined ? {} : { imagePullSecrets: [{ name: pullSecret }] }) },
  });
}

let podCount = 0;
/** Creates a pod with a fresh name; resolves with kubectl's exit code, stderr, and the name. */
async function createPod(image: string, options: { prefix?: string; pullSecret?: string; dryRun?: boolean } = {}) {
  const name = `${options.prefix ?? 'p'}-${++podCount}`;
  const result = await cluster.kubectl(['create', '-f', '-', ...(options.dryRun === true ? ['--dry-run=server'] : [])], { stdin: pod(name, image, options.pullSecret) });
  return { ...result, name };
}

function clusterPolicy(name: string, mode: string, glob: string, key: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'sigward.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name },
    spec: { mode, images: [{ glob }], authorities: [{ name: 'release', key }] },
  };
}

async function readyCondition(name: string, namespace?: string): Promise<{ status?: string; reason?: string; message?: string; observedGeneration?: number; generation: number }> {
  const target = namespace === undefined ? ['clusterimagepolicy', name] : ['imagepolicy', name, '-n', namespace];
  const object = JSON.parse(await kubectl(['get', ...target, '-o', 'json'])) as {
    metadata: { generation: number }; status?: { conditions?: { type: string; status: string; reason: string; message: string; observedGeneration: number }[] };
  };
  const condition = object.status?.conditions?.find((c) => c.type === 'Ready');
  return { ...condition, generation: object.metadata.generation };
}

function pem(key: CosignKeyPair): string {
  return readFileSync(key.publicKey, 'utf8');
}

beforeAll(async () => {
  cluster = await startKube();
  registry = await startDistributionRegistry({ tls: true, auth: { username: 'robot', password: randomBytes(12).toString('hex') } });
  privateRegistry = await startDistributionRegistry({ tls: true, auth: { username: 'team-a', password: randomBytes(12).toString('hex') } });
  release = await generateKeyPair(scratch.dir, 2, 'release');
  next = await generateKeyPair(scratch.dir, 2, 'next');
  images.signed = await pushImage(registry, 'acme/app', 'v1', [release]);
  images.unsigned = await pushImage(registry, 'acme/unsigned', 'v1');
  images.rotating = await pushImage(registry, 'rotating/app', 'v1', [next]);
  images.auditedBad = await pushImage(registry, 'audited/bad', 'v1');
  images.auditedOk = await pushImage(registry, 'audited/ok', 'v1', [release]);
  images.private = await pushImage(privateRegistry, 'private/app', 'v1', [release]);
  images.team = await pushImage(registry, 'team/app', 'v1');
  images.sigpull = await pushImage(privateRegistry, 'sigpull/app', 'v1', [release]);

  const crdDir = join(REPO_ROOT, 'charts', 'sigward', 'crds');
  for (const file of readdirSync(crdDir).filter((f) => f.endsWith('.yaml'))) await kubectl(['apply', '-f', join(crdDir, file)]);
  await apply(policyReportCrd());
  await kubectl(['wait', '--for=condition=established', '--timeout=60s', 'crd/clusterimagepolicies.sigward.dev', 'crd/imagepolicies.sigward.dev', 'crd/imageexemptions.sigward.dev', 'crd/policyreports.wgpolicyk8s.io']);
  await kubectl(['create', 'namespace', OWN]);
  await apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: APPS, labels: { [LABEL]: 'true' } } });
  const dockerSecret = (namespace: string, name: string, reg: TestRegistry) =>
    kubectl(['create', 'secret', 'docker-registry', name, '-n', namespace, `--docker-server=${reg.host}`, `--docker-username=${reg.username ?? ''}`, `--docker-password=${reg.password ?? ''}`]);
  await dockerSecret(OWN, 'global-regcred', registry);
  await dockerSecret(APPS, 'team-regcred', privateRegistry);
  await kubectl(['create', 'secret', 'generic', 'cosign-keys', '-n', OWN, `--from-file=cosign.pub=${release.publicKey}`]);

  await apply(clusterPolicy('acme', 'enforce', `${registry.host}/acme/**`, { data: pem(release) }));
  // No namespace in the secretRef: a ClusterImagePolicy reads sigward's own namespace.
  await apply(clusterPolicy('rotating', 'enforce', `${registry.host}/rotating/**`, { secretRef: { name: 'cosign-keys', key: 'cosign.pub' } }));
  await apply(clusterPolicy('audited', 'audit', `${registry.host}/audited/**`, { data: pem(release) }));
  await apply(clusterPolicy('private', 'enforce', `${privateRegistry.host}/private/**`, { data: pem(release) }));

  sigward = await startClusterServe({
    kubeconfig: cluster.kubeconfig,
    namespace: OWN,
    caFiles: [registry.caFile!, privateRegistry.caFile!],
    args: ['--pull-secret', 'global-regcred', '--scan-interval', '2s', '--arm-webhooks', 'sigward-e2e'],
  });
  await eventually('/readyz', async () => ((await sigward.status('/readyz')) === 200 ? true : undefined), 30_000);
  // Created with Ignore, as the chart creates them: sigward arms them (--arm-webhooks) once ready.
  for (const config of webhookConfigurations(sigward.port, sigward.caBundle, LABEL, 'Ignore')) await apply(config);
  await eventually('sigward to arm its webhooks', async () => {
    const policies = await Promise.all(['validatingwebhookconfiguration', 'mutatingwebhookconfiguration'].map((kind) =>
      kubectl(['get', kind, 'sigward-e2e', '-o', 'jsonpath={.webhooks[*].failurePolicy}'])));
    return policies.every((p) => p === 'Fail') ? true : undefined;
  }, 30_000);
  // The API server loads webhook configurations from its informer within a moment.
  await eventually('the webhook to be called', async () => {
    const probe = await createPod(images.unsigned.reference, { prefix: 'probe' });
    return probe.code !== 0 && probe.stderr.includes('sigward.dev') ? true : undefined;
  });
}, 600_000);

afterAll(async () => {
  await sigward?.stop();
  await cluster?.stop();
  await registry?.stop();
  await privateRegistry?.stop();
  scratch.remove();
});

describe('sigward serve --watch-crds in a cluster', () => {
  describe('when a policy breaks the CRD schema', () => {
    it('is refused by the API server itself, with the field named', async () => {
      const badMode = await cluster.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(clusterPolicy('bad-mode', 'block', '**', { data: pem(release) })) });
      expect(badMode.code).not.toBe(0);
      expect(badMode.stderr).toMatch(/spec\.mode: Unsupported value: "block"/);
      const tooMany = clusterPolicy('bad-threshold', 'enforce', '**', { data: pem(release) });
      (tooMany.spec as Record<string, unknown>).threshold = 2;
      const threshold = await cluster.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(tooMany) });
      expect(threshold.stderr).toContain('threshold must not exceed the number of authorities');
      const both = await cluster.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(clusterPolicy('bad-key', 'enforce', '**', { data: pem(release), secretRef: { name: 'x', key: 'y' } })) });
      expect(both.stderr).toContain('exactly one of key.data and key.secretRef must be set');
    });
  });

  describe('when a valid policy is applied', () => {
    it('reports Ready=True, reason Compiled, at the current generation', async () => {
      const ready = await eventually('acme Ready', async () => {
        const condition = await readyCondition('acme');
        return condition.status === 'True' ? condition : undefined;
      });
      expect(ready).toMatchObject({ reason: 'Compiled', message: 'compiled: 1 authority' });
      expect(ready.observedGeneration).toBe(ready.generation);
    });
  });

  describe('when a pod names a signed image by tag', () => {
    it('is admitted and pinned to the digest that was verified', async () => {
      const created = await createPod(images.signed.reference, { prefix: 'signed' });
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const image = await kubectl(['get', 'pod', created.name, '-n', APPS, '-o', 'jsonpath={.spec.containers[0].image}']);
      expect(image).toBe(`${images.signed.reference}@${images.signed.digest}`);
    });
  });

  describe('when a pod names an unsigned image', () => {
    it('is refused with sigward\'s reason in kubectl\'s error', async () => {
      const created = await createPod(images.unsigned.reference);
      expect(created.code).not.toBe(0);
      expect(created.stderr).toContain('admission webhook "verify.sigward.dev" denied the request');
      expect(created.stderr).toContain(`image ${images.unsigned.reference}`);
      expect(created.stderr).toContain(images.unsigned.digest);
      expect(created.stderr).toContain('ClusterImagePolicy acme (enforce): 0 of 1 authorities verified');
    });
  });

  describe('when a policy is edited', () => {
    it('decides the next admission by the edit within 2 s, both ways', async () => {
      for (const [mode, admitted] of [['audit', true], ['enforce', false]] as const) {
        await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=merge', '-p', JSON.stringify({ spec: { mode } })]);
        const edited = Date.now();
        await eventually(`mode ${mode} in force`, async () => ((await createPod(images.unsigned.reference)).code === 0) === admitted ? true : undefined, 5000);
        expect(Date.now() - edited).toBeLessThan(2000);
      }
    });
  });

  describe('when a pod admitted before enforcement runs an unsigned image', () => {
    it('can be relabelled, and deleted through its finalizer, once the policy enforces', async () => {
      const name = `legacy-${++podCount}`;
      const legacy = JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: APPS, finalizers: ['example.com/hold'] },
        spec: { containers: [{ name: 'app', image: images.unsigned.reference }] },
      });
      await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'audit' } })]);
      await eventually('audit mode in force', async () => ((await cluster.kubectl(['create', '-f', '-'], { stdin: legacy })).code === 0 ? true : undefined), 5000);
      await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'enforce' } })]);
      await eventually('enforce mode in force', async () => ((await createPod(images.unsigned.reference)).code !== 0 ? true : undefined), 5000);

      // A metadata change is not a new image: it is admitted, and the image is not rewritten.
      const imageOf = (): Promise<string> => kubectl(['get', 'pod', name, '-n', APPS, '-o', 'jsonpath={.spec.containers[0].image}']);
      const running = await imageOf();
      const labelled = await cluster.kubectl(['label', 'pod', name, '-n', APPS, 'tier=legacy']);
      expect({ code: labelled.code, stderr: labelled.stderr }).toEqual({ code: 0, stderr: '' });
      expect(await imageOf()).toBe(running);
      // Changing the image is judged, and refused.
      const swapped = await cluster.kubectl(['set', 'image', `pod/${name}`, '-n', APPS, `app=${images.unsigned.repository}:other`]);
      expect(swapped.code).not.toBe(0);
      expect(swapped.stderr).toContain('denied the request');

      await kubectl(['delete', 'pod', name, '-n', APPS, '--wait=false']);
      const released = await cluster.kubectl(['patch', 'pod', name, '-n', APPS, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
      expect({ code: released.code, stderr: released.stderr }).toEqual({ code: 0, stderr: '' });
      await eventually('the pod to be gone', async () => ((await cluster.kubectl(['get', 'pod', name, '-n', APPS])).code !== 0 ? true : undefined), 10_000);
    });
  });

  describe('when an edit is valid to the API server but not to sigward', () => {
    it('says Ready=False with the reason and keeps enforcing the last good version', async () => {
      const broken = [{ op: 'replace', path: '/spec/authorities/0/key/data', value: 'not a public key' }];
      await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=json', '-p', JSON.stringify(broken)]);
      const condition = await eventually('acme InvalidPolicy', async () => {
        const seen = await readyCondition('acme');
        return seen.status === 'False' && seen.observedGeneration === seen.generation ? seen : undefined;
      });
      expect(condition.reason).toBe('InvalidPolicy');
      expect(condition.message).toContain('spec.authorities[0].key.data');
      expect(condition.message).toContain('the last valid one, stays in force');
      expect((await createPod(images.unsigned.reference)).code).not.toBe(0);
      expect((await createPod(images.signed.reference)).code).toBe(0);

      const fixed = [{ op: 'replace', path: '/spec/authorities/0/key/data', value: pem(release) }];
      await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=json', '-p', JSON.stringify(fixed)]);
      await eventually('acme Ready again', async () => ((await readyCondition('acme')).status === 'True' ? true : undefined));
    });
  });

  describe('when the key in a policy\'s Secret is rotated', () => {
    it('takes effect without restarting sigward', async () => {
      const before = await createPod(images.rotating.reference);
      expect(before.code).not.toBe(0);
      expect(before.stderr).toContain('ClusterImagePolicy rotating (enforce)');
      const secret = await kubectl(['create', 'secret', 'generic', 'cosign-keys', '-n', OWN, `--from-file=cosign.pub=${next.publicKey}`, '--dry-run=client', '-o', 'json']);
      await kubectl(['apply', '-f', '-'], secret);
      await eventually('the rotated key in force', async () => ((await createPod(images.rotating.reference)).code === 0 ? true : undefined), 10_000);
      expect(sigward.exited()).toBe(false);
    });
  });

  describe('when the Secret holding a policy\'s key is deleted', () => {
    it('revokes that authority at once, says so in the status, and restores it with the Secret', async () => {
      expect((await createPod(images.rotating.reference)).code).toBe(0);
      await kubectl(['delete', 'secret', 'cosign-keys', '-n', OWN]);
      const denied = await eventually('the authority revoked', async () => {
        const attempt = await createPod(images.rotating.reference);
        return attempt.code !== 0 ? attempt : undefined;
      }, 10_000);
      expect(denied.stderr).toContain('authority release: KEY_INVALID revoked: spec.authorities[0].key.secretRef');
      const condition = await eventually('rotating AuthorityRevoked', async () => {
        const seen = await readyCondition('rotating');
        return seen.reason === 'AuthorityRevoked' ? seen : undefined;
      });
      expect(condition).toMatchObject({ status: 'False', message: expect.stringContaining('authorities release are revoked') });

      await kubectl(['create', 'secret', 'generic', 'cosign-keys', '-n', OWN, `--from-file=cosign.pub=${next.publicKey}`]);
      await eventually('the authority back', async () => ((await createPod(images.rotating.reference)).code === 0 ? true : undefined), 10_000);
      await eventually('rotating Ready again', async () => ((await readyCondition('rotating')).status === 'True' ? true : undefined));
    });
  });

  describe('when an ImagePolicy names a key Secret of another namespace', () => {
    it('is refused in its status, and once fixed applies to the pods of its namespace', async () => {
      const team = {
        apiVersion: 'sigward.dev/v1alpha1', kind: 'ImagePolicy', metadata: { name: 'team', namespace: APPS },
        spec: { images: [{ glob: `${registry.host}/team/**` }], authorities: [{ name: 'team', key: { secretRef: { name: 'cosign-keys', namespace: OWN, key: 'cosign.pub' } } }] },
      };
      await apply(team);
      const refused = await eventually('team InvalidPolicy', async () => {
        const seen = await readyCondition('team', APPS);
        return seen.status === 'False' ? seen : undefined;
      });
      expect(refused.reason).toBe('InvalidPolicy');
      expect(refused.message).toContain(`spec.authorities[0].key.secretRef: Secret ${OWN}/cosign-keys cannot be read: an ImagePolicy may read Secrets of its own namespace (${APPS}) only`);
      expect(refused.message).toContain('the policy is not enforced');

      await apply({ ...team, spec: { ...team.spec, authorities: [{ name: 'team', key: { data: pem(release) } }] } });
      await eventually('team Ready', async () => ((await readyCondition('team', APPS)).status === 'True' ? true : undefined));
      // Compiled before its status was written: the first pod after Ready=True meets it.
      const denied = await createPod(images.team.reference);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(`ImagePolicy ${APPS}/team (enforce): 0 of 1 authorities verified`);
    });
  });

  describe('when the image is in a registry only the pod\'s own pull secret opens', () => {
    it('is refused without the secret and admitted with it', async () => {
      const without = await createPod(images.private.reference);
      expect(without.code).not.toBe(0);
      expect(without.stderr).toMatch(/cannot resolve (the|its) digest/);
      const withSecret = await createPod(images.private.reference, { pullSecret: 'team-regcred' });
      expect(withSecret.stderr).toBe('');
      expect(withSecret.code).toBe(0);
    });
  });

  describe('when a policy names signaturePullSecrets for signatures no other credential opens', () => {
    it('reads the signatures with them, denies without them, and revokes the authority while the Secret is gone', async () => {
      // By digest, so no manifest is read: only the signature lookup needs the private registry.
      const image = images.sigpull.byDigest;
      const policy = (secrets: boolean) => ({
        apiVersion: 'sigward.dev/v1alpha1', kind: 'ClusterImagePolicy', metadata: { name: 'sigpull' },
        spec: { images: [{ glob: `${privateRegistry.host}/sigpull/**` }], authorities: [{ name: 'release', key: { data: pem(release) }, ...(secrets ? { signaturePullSecrets: [{ name: 'sig-reader' }] } : {}) }] },
      });
      await kubectl(['create', 'secret', 'docker-registry', 'sig-reader', '-n', OWN, `--docker-server=${privateRegistry.host}`,
        `--docker-username=${privateRegistry.username ?? ''}`, `--docker-password=${privateRegistry.password ?? ''}`]);
      await apply(policy(false));
      const denied = await eventually('sigpull enforced without secrets', async () => {
        const attempt = await createPod(image);
        return attempt.code !== 0 && attempt.stderr.includes('ClusterImagePolicy sigpull') ? attempt : undefined;
      });
      expect(denied.stderr).toContain('refused authentication');

      await apply(policy(true));
      await eventually('sigpull admitting with its signaturePullSecrets', async () => ((await createPod(image)).code === 0 ? true : undefined), 10_000);
      await eventually('sigpull Ready', async () => ((await readyCondition('sigpull')).status === 'True' ? true : undefined));

      await kubectl(['delete', 'secret', 'sig-reader', '-n', OWN]);
      const revoked = await eventually('sigpull AuthorityRevoked', async () => {
        const seen = await readyCondition('sigpull');
        return seen.reason === 'AuthorityRevoked' ? seen : undefined;
      });
      expect(revoked.message).toContain(`spec.authorities[0].signaturePullSecrets: Secret ${OWN}/sig-reader holds no .dockerconfigjson or .dockercfg`);
      expect((await createPod(image)).code).not.toBe(0);
      expect(sigward.log()).not.toContain(privateRegistry.password ?? 'no password');
    });
  });

  describe('when a cluster admin creates a break-glass ImageExemption', () => {
    const exemption = (name: string, expires: string | undefined, extra: Record<string, unknown> = {}) => ({
      apiVersion: 'sigward.dev/v1alpha1', kind: 'ImageExemption', metadata: { name },
      spec: { images: [{ glob: `${registry.host}/acme/unsigned` }], namespaces: [APPS], reason: 'INC-4711 hotfix', ...(expires === undefined ? {} : { expires }), ...extra },
    });
    const active = async (name: string) => {
      const object = JSON.parse(await kubectl(['get', 'imageexemption', name, '-o', 'json'])) as { status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } };
      return object.status?.conditions?.find((c) => c.type === 'Active');
    };

    it('is refused by the API server without an expiry, and its expiry cannot be moved', async () => {
      const missing = await cluster.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(exemption('no-expiry', undefined)) });
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('spec.expires: Required value');
      await apply(exemption('fixed-expiry', new Date(Date.now() + 3_600_000).toISOString(), { namespaces: ['nowhere'] }));
      const moved = await cluster.kubectl(['patch', 'imageexemption', 'fixed-expiry', '--type=merge', '-p', JSON.stringify({ spec: { expires: new Date(Date.now() + 7_200_000).toISOString() } })]);
      expect(moved.code).not.toBe(0);
      expect(moved.stderr).toContain('expires cannot be changed; create a new exemption');
      await kubectl(['delete', 'imageexemption', 'fixed-expiry']);
    });

    it('admits the images it names with a warning, records each use, and stops when it expires', async () => {
      const denied = await createPod(images.unsigned.reference, { prefix: 'before-exemption' });
      expect(denied.code).not.toBe(0);
      await apply(exemption('inc-4711', new Date(Date.now() + 12_000).toISOString()));
      const admitted = await eventually('the exemption in force', async () => {
        const attempt = await createPod(images.unsigned.reference, { prefix: 'exempted' });
        return attempt.code === 0 ? attempt : undefined;
      }, 10_000);
      expect(admitted.stderr).toContain('Warning: sigward: spec.containers[0].image');
      expect(admitted.stderr).toContain('admitted by ImageExemption inc-4711');
      expect((await active('inc-4711'))?.status).toBe('True');
      const event = await eventually('an ImageExempted Event', async () => {
        const list = JSON.parse(await kubectl(['get', 'events', '-n', APPS, '--field-selector', `involvedObject.name=${admitted.name}`, '-o', 'json'])) as { items: { reason: string; message?: string; note?: string }[] };
        return list.items.find((e) => e.reason === 'ImageExempted');
      });
      expect(event.message ?? event.note).toContain('INC-4711 hotfix');
      await eventually('a report entry naming the exemption', async () => {
        const got = await cluster.kubectl(['get', 'policyreports.wgpolicyk8s.io', 'sigward', '-n', APPS, '-o', 'json']);
        if (got.code !== 0) return undefined;
        const report = JSON.parse(got.stdout) as { results: { policy: string; result: string; resources: { name: string }[] }[] };
        return report.results.some((r) => r.policy === 'ImageExemption/inc-4711' && r.result === 'warn' && r.resources[0]?.name === admitted.name) ? true : undefined;
      });
      const expired = await eventually('the exemption expired in its status', async () => {
        const condition = await active('inc-4711');
        return condition?.reason === 'Expired' ? condition : undefined;
      }, 20_000);
      expect(expired).toMatchObject({ status: 'False', message: expect.stringContaining('it has no effect') });
      expect((await createPod(images.unsigned.reference, { prefix: 'after-exemption' })).code).not.toBe(0);
      await kubectl(['delete', 'imageexemption', 'inc-4711']);
    }, 60_000);

    it('has no effect when its expiry is more than 7 days after its creation, and says why', async () => {
      await apply(exemption('too-long', new Date(Date.now() + 8 * 24 * 3_600_000).toISOString()));
      const condition = await eventually('too-long Invalid', async () => {
        const seen = await active('too-long');
        return seen?.reason === 'Invalid' ? seen : undefined;
      });
      expect(condition.message).toContain('spec.expires: is more than 7 days after the exemption was created');
      expect((await createPod(images.unsigned.reference, { prefix: 'too-long' })).code).not.toBe(0);
      await kubectl(['delete', 'imageexemption', 'too-long']);
    });
  });

  describe('when an audit policy fails for a pod', () => {
    it('admits it, and records an Event and a PolicyReport result that the report command shows', async () => {
      const bad = await createPod(images.auditedBad.reference, { prefix: 'audited-bad' });
      expect(bad.code).toBe(0);
      const ok = await createPod(images.auditedOk.reference, { prefix: 'audited-ok' });
      expect(ok.code).toBe(0);

      const event = await eventually('an Event on the pod', async () => {
        const list = JSON.parse(await kubectl(['get', 'events', '-n', APPS, '--field-selector', `involvedObject.name=${bad.name}`, '-o', 'json'])) as { items: { reason: string; message?: string; note?: string }[] };
        return list.items.find((e) => e.reason === 'ImageVerificationFailed');
      });
      expect(event.message ?? event.note).toContain(images.auditedBad.reference);

      type Report = { summary: Record<string, number>; results: { result: string; policy: string; resources: { name: string }[]; properties: { image: string; digest?: string } }[] };
      const report = await eventually('a report with both pods', async () => {
        const got = await cluster.kubectl(['get', 'policyreports.wgpolicyk8s.io', 'sigward', '-n', APPS, '-o', 'json']);
        if (got.code !== 0) return undefined;
        const parsed = JSON.parse(got.stdout) as Report;
        const names = parsed.results.filter((r) => r.policy === 'ClusterImagePolicy/audited').map((r) => `${r.resources[0]?.name}:${r.result}`);
        return names.includes(`${bad.name}:fail`) && names.includes(`${ok.name}:pass`) ? parsed : undefined;
      });
      const failing = report.results.find((r) => r.resources[0]?.name === bad.name);
      // The mutating webhook pinned the pod's image before it was validated.
      expect(failing?.properties).toEqual({ image: `${images.auditedBad.reference}@${images.auditedBad.digest}`, digest: images.auditedBad.digest, mode: 'audit' });

      const printed = await runSigward(['report', '--kubeconfig', cluster.kubeconfig, '--namespace', APPS], { POD_NAMESPACE: OWN });
      expect(printed.code).toBe(0);
      expect(printed.stdout).toMatch(/^NAMESPACE\s+POLICY\s+PASS\s+FAIL\s+WARN\s+ERROR$/m);
      expect(printed.stdout).toMatch(new RegExp(`^apps\\s+ClusterImagePolicy/audited\\s+1\\s+1\\s+0\\s+0$`, 'm'));
      expect(printed.stdout).toContain(`apps Pod/${bad.name} ${images.auditedBad.reference}@${images.auditedBad.digest} ClusterImagePolicy/audited fail:`);

      await kubectl(['delete', 'pod', bad.name, '-n', APPS, '--wait=false']);
      await eventually('the deleted pod to drop out of the report', async () => {
        const parsed = JSON.parse(await kubectl(['get', 'policyreports.wgpolicyk8s.io', 'sigward', '-n', APPS, '-o', 'json'])) as Report;
        return parsed.results.some((r) => r.resources[0]?.name === bad.name) ? undefined : true;
      });
    });

    it('records nothing for a dry run', async () => {
      const dry = await createPod(images.auditedBad.reference, { prefix: 'audited-dry', dryRun: true });
      expect(dry.code).toBe(0);
      // The event to wait for: a real pod with the same image, created after the dry run, gets its
      // Event; the dry run's would have been recorded before it.
      const real = await createPod(images.auditedBad.reference, { prefix: 'audited-after-dry' });
      expect(real.code).toBe(0);
      await eventually('the real pod\'s Event', async () => {
        const seen = await kubectl(['get', 'events', '-n', APPS, '--field-selector', `involvedObject.name=${real.name}`, '-o', 'name']);
        return seen.trim() === '' ? undefined : true;
      });
      const events = await kubectl(['get', 'events', '-n', APPS, '--field-selector', `involvedObject.name=${dry.name}`, '-o', 'name']);
      expect(events.trim()).toBe('');
      const report = await kubectl(['get', 'policyreports.wgpolicyk8s.io', 'sigward', '-n', APPS, '-o', 'json']);
      expect(report).not.toContain(dry.name);
    });
  });

  describe('when the API server restarts', () => {
    it('keeps enforcing, restarts its watches, and sees edits made afterwards', async () => {
      await cluster.restart();
      expect(await sigward.status('/readyz')).toBe(200);
      expect((await createPod(images.unsigned.reference)).code).not.toBe(0);
      await kubectl(['patch', 'clusterimagepolicy', 'acme', '--type=merge', '-p', JSON.stringify({ spec: { mode: 'audit' } })]);
      await eventually('the edit after the restart in force', async () => ((await createPod(images.unsigned.reference)).code === 0 ? true : undefined), 60_000);
      expect(sigward.log()).toContain('watch failed; restarting it');
    });
  });
});
