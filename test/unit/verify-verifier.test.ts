import { describe, expect, it } from '@jest/globals';
import { MEDIA_TYPE } from '../../src/constants.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { SigwardError } from '../../src/errors.js';
import { Verifier } from '../../src/verify/verifier.js';
import type { Authority } from '../../src/verify/types.js';
import { fixtureBytes, fixtureText, MemoryRegistry, repository } from './cosign-fixtures.js';

// cosign v3.0.4's own bundle for this digest, with its referring manifest and the
// referrers tag index a registry without the referrers API holds (cases.json tf-cosign-v3.0.4-bundle).
const DIR = 'bundles/tobby-fetch-cosign-v3.0.4-key';
const SUBJECT = 'sha256:d7d5640c741c60b47fa4b5530daa20a6469b55754a89dd42adbadadb59f9093c';
const OTHER = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';
const repo = repository('registry.example.com/tobby/fetch');

const bundleKey: Authority = { name: 'release', key: parsePublicKey(fixtureText(`${DIR}/bundle-cosign.pub`)) };
const otherKey: Authority = { name: 'other', key: parsePublicKey(fixtureText('legacy/containers-image/cosign.pub')) };

/** A registry holding the bundle as a referrer of `listedFor` (by the tag schema's index). */
function registryWithBundle(listedFor: string): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.putBlob(fixtureBytes(`${DIR}/bundle-sigstore.json`));
  registry.putManifest(repo, 'referrer', fixtureBytes(`${DIR}/bundle-referring-manifest.json`));
  registry.putManifest(repo, listedFor.replace(':', '-'), fixtureBytes(`${DIR}/bundle-referrers-index.json`), MEDIA_TYPE.ociIndex);
  return registry;
}

describe('Verifier', () => {
  describe('when a cosign v3 bundle is listed in the referrers tag index', () => {
    it('finds it through the fallback tag and verifies it with its key', async () => {
      const verifier = new Verifier({ registry: registryWithBundle(SUBJECT) });
      const [verdict] = await verifier.verifyDigest(repo, SUBJECT, [bundleKey]);
      expect(verdict?.verified).toBe(true);
      expect(verdict?.signatures[0]?.format).toBe('bundle');
    });

    it('refuses it for another key with SIGNATURE_INVALID', async () => {
      const verifier = new Verifier({ registry: registryWithBundle(SUBJECT) });
      const [verdict] = await verifier.verifyDigest(repo, SUBJECT, [otherKey]);
      expect(verdict?.verified).toBe(false);
      expect(verdict?.failures.map((f) => f.code)).toContain('SIGNATURE_INVALID');
    });
  });

  describe('when the same bundle is replayed as a referrer of another image', () => {
    it('rejects with CLAIM_MISMATCH: the statement names the image it was made for', async () => {
      const verifier = new Verifier({ registry: registryWithBundle(OTHER) });
      const [verdict] = await verifier.verifyDigest(repo, OTHER, [bundleKey]);
      expect(verdict?.verified).toBe(false);
      expect(verdict?.failures.map((f) => f.code)).toEqual(['CLAIM_MISMATCH']);
    });
  });

  describe('when nothing is stored for the digest', () => {
    it('reports NO_SIGNATURES naming both places it looked', async () => {
      const verifier = new Verifier({ registry: registryWithBundle(SUBJECT) });
      const [verdict] = await verifier.verifyDigest(repo, OTHER, [bundleKey]);
      expect(verdict?.verified).toBe(false);
      expect(verdict?.failures[0]?.code).toBe('NO_SIGNATURES');
      expect(verdict?.failures[0]?.message).toContain('sha256-634a8f35');
      expect(verdict?.failures[0]?.message).toContain('.sig');
    });
  });

  describe('when the registry fails and nothing was found', () => {
    it('throws the registry error rather than calling the image unsigned', async () => {
      const registry = registryWithBundle(SUBJECT);
      const failing = Object.assign(Object.create(registry) as MemoryRegistry, {
        getManifest: () => Promise.reject(new SigwardError('REGISTRY_UNREACHABLE', 'registry.example.com: connection refused')),
      });
      const verifier = new Verifier({ registry: failing });
      const [verdict] = await verifier.verifyDigest(repo, SUBJECT, [bundleKey]);
      expect(verdict?.verified).toBe(false);
      expect(verdict?.failures.map((f) => f.code)).toEqual(['REGISTRY_UNREACHABLE']);
    });
  });

  describe('when a reference carries a digest', () => {
    it('verifies at that digest without asking the registry for the tag', async () => {
      const registry = registryWithBundle(SUBJECT);
      const verifier = new Verifier({ registry });
      const digest = await verifier.resolve({ ...repo, tag: 'latest', digest: SUBJECT, original: 'x' });
      expect(digest).toBe(SUBJECT);
      expect(registry.manifestRequests).toEqual([]);
    });
  });
});
