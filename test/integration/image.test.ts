/**
 * The container image, built from the real Dockerfile by scripts/image.sh (buildah, --isolation
 * chroot, stand-in bases from Debian's packages and Node 24 from npm), run as users meet it: its
 * entrypoint as its own user for `--version`, a `verify` against a TLS registry on loopback and
 * `serve` answering /healthz; then pushed, signed with the real cosign, and verified by sigward
 * and cosign side by side. What is in it is checked too: a non-root user, no shell, no tests,
 * no source maps, no dev dependencies.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Agent, fetch } from 'undici';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, sign, verify as cosignVerify, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { buildahChecked, buildImage, imageConfig, mountImage, runImage, startImage, type BuiltImage } from '../support/image.js';
import { freePort } from '../support/net.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startCraneRegistry, startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { policyDocument } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';
import { runSigward } from '../support/sigward.js';
import { REPO_ROOT } from '../support/tools.js';

const scratch = makeTempDir('image');
let built: BuiltImage;
let tls: TestRegistry;
let plain: TestRegistry;
let signer: CosignKeyPair;
let signed: TestImage;
let unsigned: TestImage;
/** Handed to the container read-only at /etc/sigward: the registry's CA, the key, a policy. */
let shared: string;
let root: string;
let mounted: { readonly root: string; remove(): Promise<void> } | undefined;

beforeAll(async () => {
  built = await buildImage();
  [tls, plain] = await Promise.all([startDistributionRegistry({ tls: true }), startCraneRegistry()]);
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  [signed, unsigned] = [await pushImage(tls, 'inside/app', 'signed', [signer]), await pushImage(tls, 'inside/app', 'unsigned')];
  shared = mkdtempSync(join(scratch.dir, 'etc-'));
  copyFileSync(tls.caFile!, join(shared, 'ca.pem'));
  copyFileSync(signer.publicKey, join(shared, 'cosign.pub'));
  writeFileSync(join(shared, 'policy.yaml'), stringify(policyDocument({ name: 'inside', images: [`${tls.host}/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] })));
  // The image's user is not root: what it reads must be readable by others, as in a real mount.
  chmodSync(shared, 0o755);
  for (const file of readdirSync(shared)) chmodSync(join(shared, file), 0o644);
  mounted = await mountImage(built.image);
  root = mounted.root;
}, 25 * 60_000);

afterAll(async () => {
  await mounted?.remove();
  await Promise.all([tls?.stop(), plain?.stop()]);
  await closeRegistryAgents();
  scratch.remove();
});

const mounts = (): Record<string, string> => ({ [shared]: '/etc/sigward' });

describe('the image, run by its entrypoint as its own user', () => {
  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await runImage(built.image, ['--version']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(`sigward ${version}`);
  });

  it('verifies a signed image over TLS with a mounted CA and key, and refuses an unsigned one', async () => {
    const args = (image: TestImage) => ['verify', image.reference, '--key', '/etc/sigward/cosign.pub', '--ca-file', '/etc/sigward/ca.pem'];
    const good = await runImage(built.image, args(signed), { mounts: mounts() });
    expect(`${good.code} ${good.stderr}`).toBe('0 ');
    expect(good.stdout).toContain(signed.digest);
    const bad = await runImage(built.image, args(unsigned), { mounts: mounts() });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('no signatures found');
  }, 60_000);

  it('serves, answering /healthz and /readyz over HTTPS', async () => {
    const port = await freePort();
    const server = await startImage(built.image, ['serve', '--policy-file', '/etc/sigward/policy.yaml', '--host', '127.0.0.1', '--port', String(port), '--metrics-port', 'off'],
      join(scratch.dir, 'serve.log'), { mounts: mounts() });
    const agent = new Agent({ connect: { rejectUnauthorized: false } });
    try {
      let status = 0;
      for (let i = 0; i < 150 && status !== 200; i++) {
        if (server.daemon.exited()) break;
        status = await fetch(`https://127.0.0.1:${port}/healthz`, { dispatcher: agent }).then((r) => r.status, () => 0);
        if (status !== 200) await sleep(100);
      }
      expect(status).toBe(200);
      expect((await fetch(`https://127.0.0.1:${port}/readyz`, { dispatcher: agent })).status).toBe(200);
    } finally {
      await agent.close();
      await server.stop();
    }
    expect(readFileSync(join(scratch.dir, 'serve.log'), 'utf8')).toContain('sigward serving');
  }, 60_000);
});

describe('the image, pushed and signed', () => {
  it('verifies with sigward and cosign alike once signed by its digest, and not before', async () => {
    const digestFile = join(scratch.dir, 'digest');
    const tag = `${plain.host}/sigward:${randomBytes(4).toString('hex')}`;
    await buildahChecked(['push', '--quiet', '--tls-verify=false', '--digestfile', digestFile, built.image, `docker://${tag}`]);
    const digest = readFileSync(digestFile, 'utf8').trim();
    const ours = () => runSigward(['verify', tag, '--key', signer.publicKey, '--insecure-registry', plain.host]);
    expect((await ours()).code).toBe(1);
    await sign({ cosign: 2, image: `${plain.host}/sigward@${digest}`, key: signer, registry: plain });
    const verified = await ours();
    expect(`${verified.code} ${verified.stderr}`).toBe('0 ');
    expect(verified.stdout).toContain(digest);
    const cosign = await cosignVerify({ cosign: 2, image: tag, publicKey: signer.publicKey, registry: plain });
    expect(cosign.code).toBe(0);
  }, 120_000);
});

describe('what is in the image', () => {
  it('runs as the numeric non-root user the chart expects, with sigward as its entrypoint', async () => {
    const config = await imageConfig(built.image);
    expect(config.User).toBe('65532:65532');
    expect(config.Entrypoint).toEqual(['/nodejs/bin/node', '--max-semi-space-size=16', '/app/dist/cli/main.js']);
    expect(config.Cmd).toEqual(['serve']);
  });

  it('has no shell and no package manager', () => {
    for (const path of ['bin/sh', 'bin/bash', 'bin/dash', 'bin/busybox', 'usr/bin/sh', 'usr/bin/bash', 'usr/bin/apt', 'usr/bin/dpkg', 'usr/local/bin/npm']) {
      expect(`${path}: ${existsSync(join(root, path))}`).toBe(`${path}: false`);
    }
    expect(existsSync(join(root, 'nodejs/bin/node'))).toBe(true);
  });

  it('holds no tests, no sources, no source maps and no dev dependency', () => {
    const app = join(root, 'app');
    expect(readdirSync(app).sort()).toEqual(['data', 'dist', 'node_modules', 'package.json']);
    expect(readdirSync(join(app, 'data')).sort()).toEqual(['PROVENANCE.md', 'public-good-trusted-root.json']);
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else files.push(relative(app, path));
      }
    };
    walk(app);
    expect(files.filter((f) => /\.(map|ts)$|\.test\.[cm]?js$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('dist/') && !f.endsWith('.js'))).toEqual([]);
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && entry.dev === true).map(([path]) => path);
    expect(devOnly.length).toBeGreaterThan(50);
    expect(devOnly.filter((path) => existsSync(join(app, path)))).toEqual([]);
    expect(statSync(join(app, 'dist', 'cli', 'main.js')).isFile()).toBe(true);
  });
});
