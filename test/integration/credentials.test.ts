/**
 * Registry credentials from programs, end to end against a distribution registry that accepts
 * only one login (htpasswd), whose password is the token a program hands out:
 * - kubelet credential provider plugins in `sigward serve` (--credential-provider-config and
 *   --credential-provider-bin-dir, the kubelet's file format and exec protocol): `matchImages`
 *   picks the plugin per repository, `cacheDuration` is honoured (runs counted), and a plugin that
 *   fails or times out gives a deny naming it;
 * - a docker credential helper (`credHelpers`) on PATH for `sigward verify`, side by side with
 *   `cosign verify` reading the same config; a helper that exits 1 fails naming it.
 * The token never appears in serve's log, verify's output, or any deny message.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, verify as cosignVerify, type CosignKeyPair } from '../support/cosign.js';
import { closeRegistryAgents } from '../support/http.js';
import { makeTempDir, sleep } from '../support/process.js';
import { startDistributionRegistry, type TestRegistry } from '../support/registries.js';
import { createReview } from '../support/review.js';
import { runSigward } from '../support/sigward.js';
import { startServe, type ServeProcess } from '../support/serve.js';
import { pushImage, type TestImage } from '../support/signed-images.js';

const TOKEN = `issued-${randomBytes(12).toString('hex')}`;
const USER = 'plugin-robot';
const scratch = makeTempDir('credentials');
const bin = join(scratch.dir, 'plugins');
const helperBin = join(scratch.dir, 'helpers');
let registry: TestRegistry;
let signer: CosignKeyPair;
let serve: ServeProcess;
const images: Record<string, TestImage> = {};

function script(dir: string, name: string, body: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

function runs(name: string): string[] {
  try {
    return readFileSync(join(bin, `${name}.calls`), 'utf8').trim().split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The registry without its login: sigward must get one from a program. */
function withoutLogin(r: TestRegistry): TestRegistry {
  const rest: { -readonly [K in keyof TestRegistry]?: TestRegistry[K] } = { ...r };
  delete rest.username;
  delete rest.password;
  return rest as TestRegistry;
}

beforeAll(async () => {
  registry = await startDistributionRegistry({ auth: { username: USER, password: TOKEN }, tls: true });
  signer = await generateKeyPair(scratch.dir, 2, 'signer');
  const pushes: [string, string, string, boolean][] = [
    ['ok', 'ok/app', 'first', true], ['ok2', 'ok/app', 'second', true], ['ok3', 'ok/app', 'third', true], ['unsigned', 'ok/app', 'unsigned', false],
    ['broken', 'broken/app', 'v1', true], ['slow', 'slow/app', 'v1', true],
  ];
  for (const [key, repo, tag, signed] of pushes) images[key] = await pushImage(registry, repo, tag, signed ? [signer] : []);
  const response = JSON.stringify({
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderResponse', cacheKeyType: 'Registry', cacheDuration: '4s',
    auth: { [registry.host]: { username: USER, password: TOKEN } },
  });
  script(bin, 'test-credential-provider', `request=$(cat)\necho "$request $* $MODE" >> "${bin}/test-credential-provider.calls"\necho '${response}'`);
  script(bin, 'broken-provider', `cat > /dev/null\necho x >> "${bin}/broken-provider.calls"\necho "cannot reach the metadata service" >&2\nexit 1`);
  script(bin, 'slow-provider', `cat > /dev/null\necho x >> "${bin}/slow-provider.calls"\nexec sleep 30`);
  const config = join(scratch.dir, 'credential-providers.yaml');
  const provider = (name: string, path: string, extra: string[] = []) => [
    `  - name: ${name}`,
    `    matchImages: ["${registry.host}/${path}"]`,
    '    defaultCacheDuration: 12h',
    '    apiVersion: credentialprovider.kubelet.k8s.io/v1',
    ...extra,
  ];
  writeFileSync(config, [
    'apiVersion: kubelet.config.k8s.io/v1',
    'kind: CredentialProviderConfig',
    'providers:',
    ...provider('test-credential-provider', 'ok', ['    args: [get-credentials]', '    env: [{ name: MODE, value: from-config }]']),
    ...provider('broken-provider', 'broken'),
    ...provider('slow-provider', 'slow'),
  ].join('\n'));
  serve = await startServe({
    policies: [{ name: 'plugin-registry', images: [`${registry.host}/**`], authorities: [{ name: 'release', publicKeyFile: signer.publicKey }] }],
    registries: [withoutLogin(registry)],
    webhookTimeoutSeconds: 12,
    extraArgs: ['--credential-provider-config', config, '--credential-provider-bin-dir', bin],
  });
}, 240_000);

afterAll(async () => {
  await serve?.stop();
  await registry?.stop();
  await closeRegistryAgents();
  scratch.remove();
});

describe('serve with kubelet credential provider plugins', () => {
  it('admits a signed image from a registry only the plugin\'s token opens, running the plugin once for all its requests', async () => {
    const answer = await serve.admit('/validate', createReview('Pod', images.ok!.reference));
    expect(answer.allowed).toBe(true);
    const calls = runs('test-credential-provider');
    expect(calls).toHaveLength(1);
    const [request, ...rest] = calls[0]!.split(' ');
    expect(JSON.parse(request!)).toEqual({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', image: `${registry.host}/ok/app` });
    expect(rest).toEqual(['get-credentials', 'from-config']);
  });

  it('denies an unsigned image it can read for lack of signatures, not for credentials', async () => {
    const answer = await serve.admit('/validate', createReview('Pod', images.unsigned!.reference));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toContain('no signatures');
    expect(answer.status?.message).not.toContain('refused authentication');
  });

  it('reuses the answer for its cacheDuration and runs the plugin again once it has passed', async () => {
    const before = runs('test-credential-provider').length;
    expect((await serve.admit('/validate', createReview('Pod', images.ok2!.reference))).allowed).toBe(true);
    expect(runs('test-credential-provider')).toHaveLength(before);
    await sleep(4_500);
    expect((await serve.admit('/validate', createReview('Pod', images.ok3!.reference))).allowed).toBe(true);
    expect(runs('test-credential-provider')).toHaveLength(before + 1);
  }, 30_000);

  it('denies naming the plugin and its exit status when the plugin matchImages picks fails', async () => {
    const answer = await serve.admit('/validate', createReview('Pod', images.broken!.reference));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toContain('credential provider plugin broken-provider for registry');
    expect(answer.status?.message).toContain('exit status 1');
    expect(answer.status?.message).not.toContain('metadata service');
    expect(runs('broken-provider')).toHaveLength(1);
    // The other plugins are not asked for a repository their matchImages do not cover.
    expect(runs('slow-provider')).toHaveLength(0);
  });

  it('denies naming the plugin when it times out, within the review deadline', async () => {
    const started = Date.now();
    const answer = await serve.admit('/validate', createReview('Pod', images.slow!.reference));
    expect(answer.allowed).toBe(false);
    expect(answer.status?.message).toContain('credential provider plugin slow-provider for registry');
    expect(answer.status?.message).toContain('timed out after 5000 ms');
    expect(Date.now() - started).toBeLessThan(11_000);
  }, 30_000);

  it('never logs the token', () => {
    expect(serve.log()).toContain('broken-provider');
    expect(serve.log()).not.toContain(TOKEN);
    expect(serve.log()).not.toContain(Buffer.from(`${USER}:${TOKEN}`).toString('base64'));
  });
});

describe('verify with a docker credential helper', () => {
  let config: string;
  let brokenConfig: string;

  beforeAll(() => {
    script(helperBin, 'docker-credential-test', `read server\necho "$server" >> "${helperBin}/calls"\n[ "$server" = "${registry.host}" ] || { echo "credentials not found in native keychain"; exit 1; }\necho '{"ServerURL":"${registry.host}","Username":"${USER}","Secret":"${TOKEN}"}'`);
    script(helperBin, 'docker-credential-failing', `cat > /dev/null\necho "${TOKEN}"\nexit 1`);
    const docker = join(scratch.dir, 'docker');
    mkdirSync(docker, { recursive: true });
    config = join(docker, 'config.json');
    writeFileSync(config, JSON.stringify({ credHelpers: { [registry.host]: 'test' } }));
    brokenConfig = join(docker, 'broken.json');
    writeFileSync(brokenConfig, JSON.stringify({ credHelpers: { [registry.host]: 'failing' } }));
  });

  const env = (): NodeJS.ProcessEnv => ({ PATH: `${helperBin}:${process.env.PATH ?? '/usr/bin:/bin'}` });
  const verifyArgs = (image: TestImage, file: string): string[] =>
    ['verify', image.reference, '--key', signer.publicKey, '--ca-file', registry.caFile ?? '', '--registry-config', file];

  it('verifies with the helper\'s credentials, as cosign does with the same config', async () => {
    const ours = await runSigward(verifyArgs(images.ok!, config), env());
    expect(ours.stderr).not.toContain(TOKEN);
    expect(ours.code).toBe(0);
    expect(readFileSync(join(helperBin, 'calls'), 'utf8')).toContain(registry.host);
    const cosign = await cosignVerify({ cosign: 2, image: images.ok!.reference, publicKey: signer.publicKey, registry: withoutLogin(registry), env: { DOCKER_CONFIG: join(scratch.dir, 'docker'), PATH: env().PATH } });
    expect(cosign.code).toBe(0);
  }, 60_000);

  it('fails with the helper named and no secret when the helper exits 1', async () => {
    const result = await runSigward(verifyArgs(images.ok!, brokenConfig), env());
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`credential helper docker-credential-failing for registry ${registry.host}: exit status 1`);
    expect(result.stderr).not.toContain(TOKEN);
  });

  it('denies an unsigned image read with the helper\'s credentials', async () => {
    const result = await runSigward(verifyArgs(images.unsigned!, config), env());
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('refused authentication');
  });
});
