/**
 * The end-to-end harness itself: a real kube-apiserver (over kine) starts on loopback, kubectl
 * built from the same release talks to it, objects are stored, a ValidatingWebhookConfiguration
 * with a `url:` is really called on pod create and its verdict reaches kubectl, and the apiserver
 * comes back after a restart with its data. If this file fails, no e2e admission test means anything.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startKube, type KubeCluster } from '../support/kube.js';
import { makeTempDir, sleep } from '../support/process.js';
import { makeTestPki } from '../support/tls.js';

/** One AdmissionReview request as the webhook saw it. */
interface SeenReview {
  readonly uid: string;
  readonly operation: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

const DENY_NAMESPACE = 'e2e-webhook';
const DENY_MESSAGE = `e2e harness webhook says no ${randomBytes(6).toString('hex')}`;
const pkiDir = makeTempDir('kube-webhook-pki');
const seen: SeenReview[] = [];
let cluster: KubeCluster;
let webhook: Server;
let webhookCaFile: string;

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** Denies every pod whose name does not start with `ok-`, so one webhook shows both verdicts. */
function answer(body: string): string {
  const review = JSON.parse(body) as { request?: Record<string, unknown> };
  const request = review.request ?? {};
  const kind = request.kind as { kind?: unknown } | undefined;
  const entry = { uid: str(request.uid), operation: str(request.operation), kind: str(kind?.kind), namespace: str(request.namespace), name: str(request.name) };
  seen.push(entry);
  const allowed = entry.name.startsWith('ok-');
  const response = allowed ? { uid: entry.uid, allowed } : { uid: entry.uid, allowed, status: { code: 403, message: DENY_MESSAGE } };
  return JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response });
}

function pod(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace },
    spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
  });
}

beforeAll(async () => {
  const pki = await makeTestPki(pkiDir.dir);
  webhookCaFile = pki.caFile;
  webhook = createServer({ key: readFileSync(pki.keyFile), cert: readFileSync(pki.certFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const body = answer(Buffer.concat(chunks).toString('utf8'));
        res.setHeader('content-type', 'application/json');
        res.end(body);
      } catch {
        res.statusCode = 400;
        res.end();
      }
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, '127.0.0.1', resolve));
  cluster = await startKube();
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  webhook?.closeAllConnections();
  await new Promise((resolve) => webhook?.close(resolve));
  pkiDir.remove();
});

describe('the e2e kube harness', () => {
  describe('when kubectl asks for versions', () => {
    it('reports the same release on client and server', async () => {
      const result = await cluster.kubectl(['version', '--output=json']);
      expect(result.code).toBe(0);
      const versions = JSON.parse(result.stdout) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
      expect(versions.serverVersion.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
      expect(versions.clientVersion.gitVersion).toBe(versions.serverVersion.gitVersion);
      expect(result.stderr).not.toMatch(/skew/i);
    });
  });

  describe('when a namespace, a ConfigMap and a Pod are created', () => {
    it('stores them and the pod stays Pending (no nodes)', async () => {
      expect((await cluster.kubectl(['create', 'namespace', 'e2e-store'])).code).toBe(0);
      const configMap = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'e2e-store' }, data: { mode: 'enforce' } });
      const created = await cluster.kubectl(['create', '-f', '-'], { stdin: `${configMap}\n${pod('e2e-store', 'web')}` });
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const mode = await cluster.kubectl(['get', 'configmap', 'settings', '-n', 'e2e-store', '-o', 'jsonpath={.data.mode}']);
      expect(mode.stdout).toBe('enforce');
      const phase = await cluster.kubectl(['get', 'pod', 'web', '-n', 'e2e-store', '-o', 'jsonpath={.status.phase}']);
      expect(phase.stdout).toBe('Pending');
    });
  });

  describe('when a ValidatingWebhookConfiguration points at an HTTPS url', () => {
    it('calls it on pod create and shows its deny message in kubectl’s error', async () => {
      const caBundle = readFileSync(webhookCaFile, 'base64');
      const { port } = webhook.address() as AddressInfo;
      expect((await cluster.kubectl(['create', 'namespace', DENY_NAMESPACE])).code).toBe(0);
      const config = {
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration',
        metadata: { name: 'e2e-harness' },
        webhooks: [{
          name: 'deny.e2e.sigward.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', timeoutSeconds: 5,
          clientConfig: { url: `https://127.0.0.1:${port}/validate`, caBundle },
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': DENY_NAMESPACE } },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        }],
      };
      expect((await cluster.kubectl(['create', '-f', '-'], { stdin: JSON.stringify(config) })).code).toBe(0);

      // The apiserver picks up new webhook configurations from its informer, within a second or so.
      let denied = await cluster.kubectl(['create', '-f', '-'], { stdin: pod(DENY_NAMESPACE, 'probe-0') });
      for (let attempt = 1; denied.code === 0 && attempt < 60; attempt++) {
        await sleep(500);
        denied = await cluster.kubectl(['create', '-f', '-'], { stdin: pod(DENY_NAMESPACE, `probe-${attempt}`) });
      }
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain(`admission webhook "deny.e2e.sigward.dev" denied the request: ${DENY_MESSAGE}`);
      const call = seen.at(-1);
      expect(call).toMatchObject({ operation: 'CREATE', kind: 'Pod', namespace: DENY_NAMESPACE });
      expect(call?.uid).toMatch(/^[0-9a-f-]{36}$/);

      const allowed = await cluster.kubectl(['create', '-f', '-'], { stdin: pod(DENY_NAMESPACE, 'ok-web') });
      expect(allowed.code).toBe(0);
      expect(seen.at(-1)).toMatchObject({ name: 'ok-web', namespace: DENY_NAMESPACE });

      const before = seen.length;
      expect((await cluster.kubectl(['create', '-f', '-'], { stdin: pod('e2e-store', 'elsewhere') })).code).toBe(0);
      expect(seen.length).toBe(before);
    });
  });

  describe('when the apiserver restarts', () => {
    it('comes back with the stored objects', async () => {
      await cluster.restart();
      const mode = await cluster.kubectl(['get', 'configmap', 'settings', '-n', 'e2e-store', '-o', 'jsonpath={.data.mode}']);
      expect(mode.stdout).toBe('enforce');
      const image = await cluster.kubectl(['get', 'pod', 'ok-web', '-n', DENY_NAMESPACE, '-o', 'jsonpath={.spec.containers[0].image}']);
      expect(image.stdout).toBe('nginx:1.27');
    });
  });
});
