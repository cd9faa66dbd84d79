import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, sign, verify, type CosignKeyPair } from '../support/cosign.js';
import { getManifest } from '../support/images.js';
import { makeTempDir, runChecked } from '../support/process.js';
import { startCraneRegistry, type TestRegistry } from '../support/registries.js';
import { requireBuiltCli, runSigward } from '../support/sigward.js';
import { REPO_ROOT, toolPath } from '../support/tools.js';

// A Helm chart stored as an OCI artifact and signed with cosign, as registries such as Quay.io
// now serve charts: the real helm packages and pushes sigward's own chart, the real cosign signs
// its manifest digest, and `sigward verify` must accept it, refuse it unsigned or with another key,
// and `helm pull` must get back the digest that was verified.
const HELM_CONFIG = 'application/vnd.cncf.helm.config.v1+json';
const HELM_CHART = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';

let registry: TestRegistry;
let scratch: { dir: string; remove: () => void };
let key: CosignKeyPair;
let otherKey: CosignKeyPair;
const pushed = new Map<string, string>();

async function helm(args: readonly string[]): Promise<string> {
  const home = join(scratch.dir, 'helm-home');
  const env = {
    HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'),
    HELM_REGISTRY_CONFIG: join(home, 'registry.json'), HTTPS_PROXY: 'http://127.0.0.1:9', HTTP_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1,localhost',
  };
  const result = await runChecked(toolPath('helm'), args, { env, timeoutMs: 60_000 });
  return result.stdout + result.stderr;
}

/** `helm package` the chart at `version`, `helm push` it, and return the manifest digest helm reports. */
async function packageAndPush(version: string): Promise<string> {
  await helm(['package', join(REPO_ROOT, 'charts', 'sigward'), '--version', version, '--destination', scratch.dir]);
  const out = await helm(['push', join(scratch.dir, `sigward-${version}.tgz`), `oci://${registry.host}/charts`, '--plain-http']);
  const digest = /Digest: (sha256:[0-9a-f]{64})/.exec(out)?.[1];
  if (digest === undefined) throw new Error(`helm push printed no digest:\n${out}`);
  return digest;
}

const chartRef = (version: string) => `${registry.host}/charts/sigward:${version}`;
const sigward = (ref: string, publicKey: string) =>
  runSigward(['verify', ref, '--key', publicKey, '--insecure-registry', registry.host, '--timeout', '20']);

beforeAll(async () => {
  requireBuiltCli();
  scratch = makeTempDir('helm-oci');
  registry = await startCraneRegistry();
  key = await generateKeyPair(scratch.dir, 2, 'release');
  otherKey = await generateKeyPair(scratch.dir, 2, 'other');
  for (const version of ['0.1.0', '0.1.1']) pushed.set(version, await packageAndPush(version));
  await sign({ cosign: 2, image: `${registry.host}/charts/sigward@${pushed.get('0.1.0')!}`, key, registry });
}, 300_000);

afterAll(async () => {
  await registry.stop();
  scratch.remove();
});

describe('a Helm chart pushed as an OCI artifact', () => {
  it('is stored with Helm\'s config and chart layer media types', async () => {
    const manifest = await getManifest(registry, 'charts/sigward', '0.1.0');
    const doc = JSON.parse(new TextDecoder().decode(manifest!.bytes)) as { config: { mediaType: string }; layers: { mediaType: string }[] };
    expect(manifest!.digest).toBe(pushed.get('0.1.0'));
    expect(doc.config.mediaType).toBe(HELM_CONFIG);
    expect(doc.layers.map((l) => l.mediaType)).toEqual([HELM_CHART]);
  });

  describe('when it is signed with cosign', () => {
    it('verifies with sigward at the digest helm pushed, as with cosign', async () => {
      const result = await sigward(chartRef('0.1.0'), key.publicKey);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`charts/sigward@${pushed.get('0.1.0')!}`);
      const cosign = await verify({ cosign: 2, image: chartRef('0.1.0'), publicKey: key.publicKey, registry });
      expect(cosign.code).toBe(0);
    });

    it('is refused with another key (exit 1, SIGNATURE_INVALID), as by cosign', async () => {
      const result = await sigward(chartRef('0.1.0'), otherKey.publicKey);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('SIGNATURE_INVALID');
      const cosign = await verify({ cosign: 2, image: chartRef('0.1.0'), publicKey: otherKey.publicKey, registry });
      expect(cosign.code).not.toBe(0);
    });

    it('round-trips through helm pull with the digest that was verified', async () => {
      mkdirSync(join(scratch.dir, 'pulled'), { recursive: true });
      const out = await helm(['pull', `oci://${registry.host}/charts/sigward`, '--version', '0.1.0', '--plain-http', '--destination', join(scratch.dir, 'pulled')]);
      expect(out).toContain(`Digest: ${pushed.get('0.1.0')!}`);
    });
  });

  describe('when a version is pushed unsigned', () => {
    it('is refused with NO_SIGNATURES naming its digest', async () => {
      const result = await sigward(chartRef('0.1.1'), key.publicKey);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(pushed.get('0.1.1')!);
      expect(result.stderr).toContain('NO_SIGNATURES');
    });
  });
});
