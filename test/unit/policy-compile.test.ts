/* eslint-disable @typescript-eslint/no-explicit-any -- the tests mutate untyped documents, as a user's YAML is untyped */
import { describe, expect, it } from '@jest/globals';
import { compilePolicy, parsePolicy, validatePolicy, type KeyResolver, type SecretKeyRef } from '../../src/policy/index.js';
import { COSIGN_PUB, COSIGN2_PUB, RSA_PUB, FULCIO_CERT, WHERE, clusterDoc, problemsOf } from './policy-fixtures.js';

describe('compilePolicy', () => {
  describe('when a key is read from a Secret', () => {
    const ref: SecretKeyRef = { name: 'acme-keys', namespace: 'sigward-system', key: 'cosign.pub' };
    function secretDoc(): Record<string, any> {
      const doc = clusterDoc();
      doc.spec.authorities[0].key = { secretRef: ref };
      return doc;
    }

    it('loads the key through the resolver', () => {
      const seen: SecretKeyRef[] = [];
      const resolveKey: KeyResolver = (asked) => {
        seen.push(asked);
        return COSIGN_PUB;
      };
      const compiled = parsePolicy(secretDoc(), WHERE, { resolveKey });
      expect(seen[0]).toEqual(ref);
      expect(compiled.authorities[0]!.key?.algorithm).toBe('ecdsa-p256');
    });

    it.each<[string, KeyResolver, string]>([
      ['the Secret or key is missing', () => undefined, 'Secret sigward-system/acme-keys has no key cosign.pub (or does not exist)'],
      ['the Secret holds a certificate', () => FULCIO_CERT, 'Secret sigward-system/acme-keys key cosign.pub: not a PEM public key'],
      ['the resolver fails', () => { throw new Error('forbidden'); }, 'Secret sigward-system/acme-keys cannot be read: forbidden'],
    ])('rejects when %s', (_what, resolveKey, problem) => {
      expect(problemsOf(() => validatePolicy(secretDoc(), WHERE, { resolveKey }))).toEqual([`spec.authorities[0].key.secretRef: ${problem}`]);
    });

    it('rejects a malformed secretRef', () => {
      const doc = clusterDoc();
      doc.spec.authorities[0].key = { secretRef: { name: 'Keys', key: 'a/b' } };
      expect(problemsOf(() => validatePolicy(doc, WHERE, { resolveKey: () => COSIGN_PUB }))).toEqual([
        'spec.authorities[0].key.secretRef.name: "Keys" must be a DNS subdomain: lower-case letters, digits, - and .',
        'spec.authorities[0].key.secretRef.namespace: is required',
        'spec.authorities[0].key.secretRef.key: "a/b" must be a Secret data key: [-._a-zA-Z0-9]',
      ]);
    });

    it('rejects at compile time a key that changed after validation', () => {
      let pem = COSIGN_PUB;
      const spec = validatePolicy(secretDoc(), WHERE, { resolveKey: () => pem });
      pem = 'rotated to garbage';
      expect(problemsOf(() => compilePolicy(spec, { resolveKey: () => pem }))).toEqual([
        'spec.authorities[0].key.secretRef: Secret sigward-system/acme-keys key cosign.pub: not a PEM public key',
      ]);
    });
  });

  it('compiles authorities with parsed keys and normalized signature repositories', () => {
    const doc = clusterDoc();
    doc.spec.authorities.push({ name: 'rsa', key: { data: RSA_PUB }, signatureRepository: 'index.docker.io/acme/sigs', annotations: { env: 'prod' } });
    const compiled = parsePolicy(doc, WHERE);
    expect(compiled.authorities.map((a) => a.key?.algorithm)).toEqual(['ecdsa-p256', 'rsa']);
    expect(compiled.authorities[0]).not.toHaveProperty('signatureRepository');
    expect(compiled.authorities[1]!.signatureRepository).toEqual({ registry: 'docker.io', repository: 'acme/sigs', name: 'docker.io/acme/sigs' });
    expect(compiled.authorities[1]!.annotations).toEqual({ env: 'prod' });
    expect(compiled.globs.map((g) => g.normalized)).toEqual(['registry.example.com/acme/**']);
    expect(compiled).toMatchObject({ kind: 'ClusterImagePolicy', name: 'acme-release', mode: 'enforce', threshold: 1, source: WHERE });
  });

  describe('identity', () => {
    it('is the same for the same content, whatever the key order or source', () => {
      const a = parsePolicy(clusterDoc(), 'a.yaml#1');
      const reordered = clusterDoc();
      reordered.spec = { authorities: reordered.spec.authorities, images: reordered.spec.images };
      expect(parsePolicy(reordered, 'b.yaml#3').identity).toBe(a.identity);
      expect(a.identity).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('changes with any edit of the spec or of a key', () => {
      const base = parsePolicy(clusterDoc(), WHERE).identity;
      const edits: ((doc: Record<string, any>) => void)[] = [
        (doc) => { doc.spec.mode = 'warn'; },
        (doc) => { doc.spec.images.push({ glob: 'quay.io/acme/*' }); },
        (doc) => { doc.spec.authorities[0].key.data = COSIGN2_PUB; },
        (doc) => { doc.spec.authorities[0].annotations = { env: 'prod' }; },
        (doc) => { doc.metadata.name = 'other'; },
      ];
      const identities = edits.map((edit) => {
        const doc = clusterDoc();
        edit(doc);
        return parsePolicy(doc, WHERE).identity;
      });
      expect(new Set([base, ...identities]).size).toBe(edits.length + 1);
    });

    it('keeps two policy files apart that carry the same uid and generation', () => {
      const first = clusterDoc();
      first.metadata = { name: 'acme-release', uid: 'copied', generation: 1 };
      const second = clusterDoc();
      second.metadata = { name: 'acme-release', uid: 'copied', generation: 1 };
      // The same key: only the spec tells them apart.
      second.spec.images = [{ glob: '**' }];
      expect(parsePolicy(first, WHERE).identity).not.toBe(parsePolicy(second, WHERE).identity);
    });

    it('uses uid and generation when the apiserver gave them, and still changes when a Secret is rotated', () => {
      const doc = clusterDoc();
      doc.metadata = { name: 'acme-release', uid: '6f1c', generation: 4 };
      doc.spec.authorities[0].key = { secretRef: { name: 'k', namespace: 'sigward-system', key: 'cosign.pub' } };
      const before = parsePolicy(doc, WHERE, { resolveKey: () => COSIGN_PUB }).identity;
      const after = parsePolicy(doc, WHERE, { resolveKey: () => COSIGN2_PUB }).identity;
      expect(before).toMatch(/^6f1c:4:sha256:[0-9a-f]{64}$/);
      expect(after).toMatch(/^6f1c:4:/);
      expect(after).not.toBe(before);
    });
  });
});

describe('authorities that trust one signer', () => {
  /** The same key, written another way: no trailing newline and CRLF line ends. */
  const respelled = COSIGN_PUB.trim().split('\n').join('\r\n');

  it('refuses two authorities holding one key, however the PEM is spelled, naming both', () => {
    const doc = clusterDoc();
    doc.spec.threshold = 2;
    doc.spec.authorities = [{ name: 'release', key: { data: COSIGN_PUB } }, { name: 'qa', key: { data: respelled } }];
    expect(problemsOf(() => parsePolicy(doc, WHERE))).toEqual([
      expect.stringMatching(/^spec\.authorities\[1\]: the same key \([0-9a-f]{12}\) as spec\.authorities\[0\]; a threshold counts distinct signers/),
    ]);
  });

  it('allows one key in two authorities that ask for different attestations', () => {
    const doc = clusterDoc();
    doc.spec.threshold = 2;
    doc.spec.authorities = [
      { name: 'slsa', key: { data: COSIGN_PUB }, attestations: [{ predicateType: 'https://slsa.dev/provenance/v1' }] },
      { name: 'sbom', key: { data: COSIGN_PUB }, attestations: [{ predicateType: 'https://spdx.dev/Document' }] },
    ];
    expect(parsePolicy(doc, WHERE).authorities).toHaveLength(2);
  });

  it('allows two different keys', () => {
    const doc = clusterDoc();
    doc.spec.authorities = [{ name: 'release', key: { data: COSIGN_PUB } }, { name: 'qa', key: { data: COSIGN2_PUB } }];
    expect(parsePolicy(doc, WHERE).authorities).toHaveLength(2);
  });
});

describe('an authority whose key Secret is gone, in a cluster', () => {
  const secretRef = { name: 'k', namespace: 'sigward-system', key: 'cosign.pub' };
  function twoAuthorities(threshold: number): ReturnType<typeof clusterDoc> {
    const doc = clusterDoc();
    doc.spec.threshold = threshold;
    doc.spec.authorities = [{ name: 'release', key: { data: COSIGN_PUB } }, { name: 'rotating', key: { secretRef } }];
    return doc;
  }

  it('is revoked, not the whole policy: it fails with the reason and still counts', () => {
    const policy = parsePolicy(twoAuthorities(2), WHERE, { resolveKey: () => undefined, revokeUnreadableSecrets: true });
    expect(policy.authorities.map((a) => a.name)).toEqual(['release']);
    expect(policy.revoked).toEqual([{ authority: 'rotating', reason: 'spec.authorities[1].key.secretRef: Secret sigward-system/k has no key cosign.pub (or does not exist)' }]);
  });

  it('is revoked when the Secret holds something that is not a key', () => {
    const policy = parsePolicy(twoAuthorities(1), WHERE, { resolveKey: () => 'not a key', revokeUnreadableSecrets: true });
    expect(policy.revoked?.[0]?.authority).toBe('rotating');
  });

  it('changes the policy identity, so verdicts made with the key are not reused', () => {
    const before = parsePolicy(twoAuthorities(1), WHERE, { resolveKey: () => COSIGN2_PUB, revokeUnreadableSecrets: true }).identity;
    const after = parsePolicy(twoAuthorities(1), WHERE, { resolveKey: () => undefined, revokeUnreadableSecrets: true }).identity;
    expect(after).not.toBe(before);
  });

  it('still refuses the policy when the policy itself is at fault (a Secret it may not read)', () => {
    const refuse = (): string => { throw new Error('an ImagePolicy may read Secrets of its own namespace only'); };
    expect(problemsOf(() => parsePolicy(twoAuthorities(1), WHERE, { resolveKey: refuse, revokeUnreadableSecrets: true }))).toEqual([
      expect.stringContaining('spec.authorities[1].key.secretRef: Secret sigward-system/k cannot be read'),
    ]);
  });

  it('refuses the policy outside a cluster, as before', () => {
    expect(problemsOf(() => parsePolicy(twoAuthorities(1), WHERE, { resolveKey: () => undefined }))).toHaveLength(1);
  });
});
