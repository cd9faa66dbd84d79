import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { run } from '../../src/cli/run.js';

/** A real cosign public key, so that a failure is about the reference and never the key file. */
const REAL_KEY = fileURLToPath(new URL('../fixtures/bundles/tobby-fetch-cosign-v3.0.4-key/bundle-cosign.pub', import.meta.url));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: { HOME: mkdtempSync(join(tmpdir(), 'sigward-cli-')) } } };
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => { resolve(port); });
    });
  });
}

describe('sigward command line', () => {
  it.each([['--version'], ['version']])('prints the package version for %s and exits 0', async (flag) => {
    const t = io();
    await expect(run([flag], t.io)).resolves.toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(t.out).toEqual([`sigward ${pkg.version}`]);
  });

  describe('when the input is wrong', () => {
    it.each([
      ['no command', [], /usage/],
      ['an unknown command', ['sign'], /unknown command 'sign'/],
      ['verify without --key', ['verify', 'quay.io/a/b:1'], /--key is required/],
      ['verify with a missing key file', ['verify', 'quay.io/a/b:1', '--key', '/nonexistent/cosign.pub'], /cannot read key file \/nonexistent\/cosign.pub.*FILE_UNREADABLE/],
      ['verify with a malformed reference', ['verify', 'quay.io/a/b@sha256:12', '--key', REAL_KEY], /DIGEST_INVALID/],
      ['an unknown flag', ['resolve', 'quay.io/a/b:1', '--bogus'], /bogus/],
      ['--threshold above the number of keys', ['verify', 'quay.io/a/b:1', '--key', 'a', '--threshold', '2'], /--threshold: expected an integer from 1 to 1/],
      ['serve with a webhook timeout over 30 s', ['serve', '--policy-file', 'p.yaml', '--webhook-timeout', '31'], /at most 30 seconds/],
      ['serve with an unknown --no-match', ['serve', '--policy-file', 'p.yaml', '--no-match', 'maybe'], /--no-match: expected deny\|warn\|allow/],
      ['check without manifests', ['check', '--policy-file', 'p.yaml'], /at least one MANIFEST/],
    ])('exits 2 for %s, naming the culprit', async (_name, argv, message) => {
      const t = io();
      await expect(run(argv, t.io)).resolves.toBe(2);
      expect(t.err.join('\n')).toMatch(message);
    });

    it('exits 2 naming the file when a key file holds no public key', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sigward-key-'));
      const file = join(dir, 'not-a-key.pub');
      writeFileSync(file, 'hello\n');
      const t = io();
      await expect(run(['verify', 'quay.io/a/b:1', '--key', file], t.io)).resolves.toBe(2);
      expect(t.err.join('\n')).toContain(`${file}: not a PEM public key (KEY_INVALID)`);
    });
  });

  describe('when the registry cannot be reached', () => {
    it('exits 1 (not verified) naming the image and the reason', async () => {
      const file = fileURLToPath(new URL('../fixtures/legacy/containers-image/cosign.pub', import.meta.url));
      const port = await closedPort();
      const t = io();
      const code = await run(['verify', `127.0.0.1:${port}/acme/app:1`, '--key', file, '--insecure-registry', `127.0.0.1:${port}`, '--timeout', '2'], t.io);
      expect(code).toBe(1);
      expect(t.err.join('\n')).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/acme/app:1.*REGISTRY_UNREACHABLE`));
    });
  });

  describe('check', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sigward-check-'));
    const policy = join(dir, 'policy.yaml');
    writeFileSync(policy, `apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: acme }
spec:
  images: [ { glob: "registry.example.com/acme/**" } ]
  authorities: [ { name: release, key: { data: ${JSON.stringify(readFileSync(REAL_KEY, 'utf8'))} } } ]
`);
    const file = (name: string, text: string): string => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    // An image no policy covers: decided (denied under --no-match deny) with no registry request.
    const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'app', image: 'quay.io/other/app:1' }] } });

    it('reads the items of a List, as kubectl get -o yaml prints it, and exits 1 for the denied pod', async () => {
      const list = file('list.yaml', JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [pod('web')] }));
      const t = io();
      await expect(run(['check', '--policy-file', policy, list], t.io)).resolves.toBe(1);
      expect(t.err.join('\n')).toContain(`${list}#1 items[0] Pod/web spec.containers[0].image quay.io/other/app:1: deny`);
      expect(t.out).toEqual(['checked 1 object, 1 image; 1 denied']);
    });

    it('counts what it skips by kind, and exits 2 when nothing could be checked', async () => {
      const only = file('config.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: s }\n');
      const t = io();
      await expect(run(['check', '--policy-file', policy, only], t.io)).resolves.toBe(2);
      expect(t.err.at(-1)).toBe('checked 0 objects, 0 images; skipped 2 (kinds sigward does not read: v1 ConfigMap 1, v1 Service 1): no Pod or workload object to check (exit 2)');
    });

    it('passes with a summary that names the skipped kinds', async () => {
      const mixed = file('mixed.yaml', `${JSON.stringify(pod('web'))}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n`);
      const t = io();
      await expect(run(['check', '--policy-file', policy, '--no-match', 'allow', mixed], t.io)).resolves.toBe(0);
      expect(t.out.at(-1)).toBe('checked 1 object, 1 image; skipped 1 (kinds sigward does not read: v1 ConfigMap 1)');
    });

    it('exits 2 for a policy file that holds no policy', async () => {
      const empty = file('empty.yaml', '# nothing yet\n');
      const manifest = file('pod.yaml', JSON.stringify(pod('web')));
      const t = io();
      await expect(run(['check', '--policy-file', empty, manifest], t.io)).resolves.toBe(2);
      expect(t.err.join('\n')).toContain(`${empty}: no ClusterImagePolicy or ImagePolicy in the file, so nothing can be checked (NO_POLICY)`);
    });
  });

  describe('report', () => {
    it('exits 1 naming the API server when it cannot be reached, never "no results"', async () => {
      const port = await closedPort();
      const dir = mkdtempSync(join(tmpdir(), 'sigward-report-'));
      const kubeconfig = join(dir, 'config');
      writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [ { name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } } ]
users: [ { name: u, user: { token: not-a-real-token } } ]
contexts: [ { name: x, context: { cluster: c, user: u } } ]
current-context: x
`);
      const t = io();
      await expect(run(['report', '--kubeconfig', kubeconfig], t.io)).resolves.toBe(1);
      expect(t.out).toEqual([]);
      expect(t.err.join('\n')).toMatch(/cannot ask the API server which report API it serves: .*ECONNREFUSED.*\(KUBE_API_ERROR\)/);
    });

    it('reads ~/.kube/config when no kubeconfig is named, as kubectl does', async () => {
      const port = await closedPort();
      const t = io();
      const kubeDir = join(t.io.env.HOME, '.kube');
      mkdirSync(kubeDir);
      writeFileSync(join(kubeDir, 'config'), `apiVersion: v1
kind: Config
clusters: [ { name: c, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } } ]
users: [ { name: u, user: { token: t } } ]
contexts: [ { name: x, context: { cluster: c, user: u } } ]
current-context: x
`);
      await expect(run(['report'], t.io)).resolves.toBe(1);
      // It went to the server that file names: the default was read.
      expect(t.err.join('\n')).toContain(`127.0.0.1:${port}`);
    });
  });
});
