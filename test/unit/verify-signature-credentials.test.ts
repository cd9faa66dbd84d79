import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { TtlCache } from '../../src/cache/ttl-cache.js';
import type { CredentialProvider } from '../../src/credentials/types.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { SigwardError } from '../../src/errors.js';
import type { Repository } from '../../src/reference/types.js';
import type { Manifest, RequestOptions } from '../../src/registry/types.js';
import type { Discovery } from '../../src/verify/discover.js';
import type { Authority } from '../../src/verify/types.js';
import { Verifier } from '../../src/verify/verifier.js';
import { MemoryRegistry, pushSignedImage, repository } from './cosign-fixtures.js';

const IMAGE = repository('registry.example.com/acme/app');
const SIGS = repository('sigs.example.com/acme/signatures');
const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const KEY = parsePublicKey(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString());

/** Signatures readable only with the signature robot's credential; records who asked with what. */
class PrivateSignatures extends MemoryRegistry {
  readonly asked: string[][] = [];

  override async getManifest(repo: Repository, reference: string, options: RequestOptions & { readonly accept?: readonly string[] } = {}): Promise<Manifest | undefined> {
    if (repo.name === SIGS.name) {
      const users: string[] = [];
      for (const provider of [options.credentials ?? []].flat()) {
        const credential = await provider(repo.registry, { repository: repo.repository });
        users.push(credential?.kind === 'basic' ? credential.username : '-');
      }
      this.asked.push(users);
      if (!users.includes('sig-robot')) throw new SigwardError('REGISTRY_DENIED', `${repo.name}: denied`);
    }
    return super.getManifest(repo, reference, options);
  }
}

function setup() {
  const registry = new PrivateSignatures();
  const digest = pushSignedImage(registry, IMAGE, 'v1', keys.privateKey, SIGS);
  const discoveries = new TtlCache<string, Discovery>({ max: 100, ttlMs: 60_000 });
  const verifier = new Verifier({ registry, digests: new TtlCache<string, string>({ max: 100, ttlMs: 60_000 }), discoveries });
  return { registry, digest, verifier, discoveries };
}

const robot: CredentialProvider = (host) => (host === 'sigs.example.com' ? { kind: 'basic', username: 'sig-robot', password: 'pw', source: 'Secret sigward-system/sig-reader' } : undefined);
const pod: CredentialProvider = () => ({ kind: 'basic', username: 'pod-user', password: 'pw', source: 'Secret team-a/regcred' });
const withSecrets: Authority = { name: 'release', key: KEY, signatureRepository: SIGS, signatureCredentials: { provider: robot, scope: 'pull:0123456789abcdef' } };
const without: Authority = { name: 'release', key: KEY, signatureRepository: SIGS };

describe('an authority\'s signaturePullSecrets', () => {
  it('read its signatures before the review\'s own credentials, which stay in the list', async () => {
    const { registry, digest, verifier } = setup();
    const [verdict] = await verifier.verifyDigest(IMAGE, digest, [withSecrets], { credentials: pod });
    expect(verdict?.verified).toBe(true);
    expect(registry.asked[0]).toEqual(['sig-robot', 'pod-user']);
  });

  it('keep what they found apart: an authority without them is not answered from that discovery', async () => {
    const { digest, verifier, discoveries } = setup();
    expect((await verifier.verifyDigest(IMAGE, digest, [withSecrets]))[0]?.verified).toBe(true);
    const [denied] = await verifier.verifyDigest(IMAGE, digest, [without]);
    expect(denied?.verified).toBe(false);
    expect(denied?.failures[0]?.code).toBe('REGISTRY_DENIED');
    expect(discoveries.peek(`pull:0123456789abcdef|${SIGS.name}@${digest}`)).toBeDefined();
  });

  it('are not borrowed by an authority without them in the same verification', async () => {
    const { digest, verifier } = setup();
    const verdicts = await verifier.verifyDigest(IMAGE, digest, [withSecrets, { ...without, name: 'other' }]);
    expect(verdicts.map((v) => v.verified)).toEqual([true, false]);
  });
});
