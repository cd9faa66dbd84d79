/**
 * The integration harness itself, against the real peers: both registries start and serve what
 * is pushed, their logs count requests, and the real cosign v2 and v3 sign offline and verify
 * only with the right key. If this file fails, the side-by-side tests prove nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPair, sign, verify, type CosignKeyPair, type CosignVersion } from '../support/cosign.js';
import { closeRegistryAgents, registryFetch } from '../support/http.js';
import { getManifest, listTags, pushIndex, pushRandomImage, retag } from '../support/images.js';
import { makeTempDir } from '../support/process.js';
import { countRequests, startCraneRegistry, startDistributionRegistry, type TestRegistry } from '../support/registries.js';

const AUTH = { username: 'sigward-ci', password: 'harness-secret-7f3a' };

let distribution: TestRegistry;
let crane: TestRegistry;
const keysDir = makeTempDir('harness-keys');
const keys = new Map<CosignVersion, { right: CosignKeyPair; wrong: CosignKeyPair }>();

beforeAll(async () => {
  [distribution, crane] = await Promise.all([startDistributionRegistry({ auth: AUTH, tls: true }), startCraneRegistry()]);
  for (const version of [2, 3] as const) {
    keys.set(version, {
      right: await generateKeyPair(keysDir.dir, version, `v${version}-right`),
      wrong: await generateKeyPair(keysDir.dir, version, `v${version}-wrong`),
    });
  }
}, 120_000);

afterAll(async () => {
  await Promise.all([distribution?.stop(), crane?.stop()]);
  await closeRegistryAgents();
  keysDir.remove();
});

function registry(kind: 'distribution' | 'crane'): TestRegistry {
  return kind === 'distribution' ? distribution : crane;
}

function keyPairs(version: CosignVersion): { right: CosignKeyPair; wrong: CosignKeyPair } {
  const pairs = keys.get(version);
  if (pairs === undefined) throw new Error(`no keys for cosign v${version}`);
  return pairs;
}

describe('the Debian distribution registry (TLS + htpasswd)', () => {
  describe('when a client sends no credentials', () => {
    it('challenges with 401 Basic', async () => {
      const response = await registryFetch(distribution, '/v2/', { anonymous: true });
      await response.body?.cancel();
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    });
  });

  describe('when a client sends the htpasswd credentials over TLS trusting only the test CA', () => {
    it('answers 200', async () => {
      const response = await registryFetch(distribution, '/v2/');
      await response.body?.cancel();
      expect(response.status).toBe(200);
    });
  });

  describe('when an image is pushed and a tag moved', () => {
    it('serves each manifest under its digest and the tag follows the move', async () => {
      const first = await pushRandomImage(distribution, 'harness/move', 'v1');
      const second = await pushRandomImage(distribution, 'harness/move', 'v2');
      expect(first.digest).not.toBe(second.digest);
      expect((await getManifest(distribution, 'harness/move', 'v1'))?.digest).toBe(first.digest);
      await retag(distribution, 'harness/move', second.digest, 'v1');
      expect((await getManifest(distribution, 'harness/move', 'v1'))?.digest).toBe(second.digest);
      expect((await getManifest(distribution, 'harness/move', first.digest))?.digest).toBe(first.digest);
    });
  });

  describe('when requests are made', () => {
    it('counts each one in the access log', async () => {
      const before = countRequests(distribution.logFile, /^GET \/v2\/harness\/count\/manifests\/v1$/);
      await pushRandomImage(distribution, 'harness/count', 'v1');
      await getManifest(distribution, 'harness/count', 'v1');
      await getManifest(distribution, 'harness/count', 'v1');
      expect(countRequests(distribution.logFile, /^GET \/v2\/harness\/count\/manifests\/v1$/)).toBe(before + 2);
      expect(countRequests(distribution.logFile, /^PUT \/v2\/harness\/count\/manifests\/v1$/)).toBe(1);
    });
  });

  describe('when asked for referrers', () => {
    it('has no referrers API (404), so clients must use the tag fallback', async () => {
      const image = await pushRandomImage(distribution, 'harness/referrers', 'v1');
      const response = await registryFetch(distribution, `/v2/harness/referrers/referrers/${image.digest}`);
      await response.body?.cancel();
      expect(response.status).toBe(404);
      expect(distribution.referrersApi).toBe(false);
    });
  });
});

describe("go-containerregistry's registry (crane registry serve)", () => {
  describe('when a multi-arch index is pushed over plain HTTP', () => {
    it('serves the index by tag with its own digest', async () => {
      const amd = await pushRandomImage(crane, 'harness/multi', 'amd64', { os: 'linux', architecture: 'amd64' });
      const arm = await pushRandomImage(crane, 'harness/multi', 'arm64', { os: 'linux', architecture: 'arm64' });
      const index = await pushIndex(crane, 'harness/multi', 'v1', [amd, arm]);
      const served = await getManifest(crane, 'harness/multi', 'v1');
      expect(served?.digest).toBe(index.digest);
      expect(served?.mediaType).toBe('application/vnd.oci.image.index.v1+json');
      expect(countRequests(crane.logFile, /^PUT \/v2\/harness\/multi\/manifests\/v1$/)).toBe(1);
    });
  });

  describe('when asked for referrers', () => {
    it('answers as its referrersApi flag says', async () => {
      const image = await pushRandomImage(crane, 'harness/referrers', 'v1');
      const response = await registryFetch(crane, `/v2/harness/referrers/referrers/${image.digest}`);
      await response.body?.cancel();
      expect(response.status === 200).toBe(crane.referrersApi);
    });
  });
});

describe.each([
  ['distribution', 2],
  ['crane', 2],
  ['distribution', 3],
  ['crane', 3],
] as const)('on the %s registry, when cosign v%s signs a digest offline', (kind, version) => {
  const formats = version === 2 ? (['legacy'] as const) : (['legacy', 'bundle'] as const);

  describe.each(formats)('in the %s format', (format) => {
    let image = '';
    let digest = '';
    let repo = '';

    beforeAll(async () => {
      const reg = registry(kind);
      repo = `harness/cosign${version}-${format}`;
      const pushed = await pushRandomImage(reg, repo, 'v1');
      digest = pushed.digest;
      image = `${reg.host}/${repo}@${digest}`;
      await sign({ cosign: version, image, key: keyPairs(version).right, registry: reg, format });
    }, 90_000);

    it('stores the signature where its format says', async () => {
      const tags = await listTags(registry(kind), repo);
      const hex = digest.slice('sha256:'.length);
      if (format === 'legacy') expect(tags).toContain(`sha256-${hex}.sig`);
      else expect(tags).toContain(`sha256-${hex}`);
    });

    it('cosign verify passes with the signing key and reads the signature from the registry', async () => {
      const reg = registry(kind);
      const before = countRequests(reg.logFile, /^(GET|HEAD) \/v2\/harness\//);
      const result = await verify({ cosign: version, image, publicKey: keyPairs(version).right.publicKey, registry: reg });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      expect(result.stdout).toContain(digest);
      expect(countRequests(reg.logFile, /^(GET|HEAD) \/v2\/harness\//)).toBeGreaterThan(before);
    });

    it('cosign verify fails with another key', async () => {
      const result = await verify({ cosign: version, image, publicKey: keyPairs(version).wrong.publicKey, registry: registry(kind) });
      expect(result.code).not.toBe(0);
      // The signature was found and refused (not "no signatures", which a broken push would give).
      expect(result.stderr).toMatch(format === 'legacy' ? /invalid signature/ : /failed to verify signature/);
      expect(result.stdout).not.toContain(digest);
    });
  });
});

describe('when a registry is stopped', () => {
  it('no longer answers and its process is gone', async () => {
    const reg = await startCraneRegistry();
    expect(() => process.kill(reg.pid, 0)).not.toThrow();
    await reg.stop();
    await expect(registryFetch(reg, '/v2/')).rejects.toThrow();
    expect(() => process.kill(reg.pid, 0)).toThrow(/ESRCH/);
  });
});
