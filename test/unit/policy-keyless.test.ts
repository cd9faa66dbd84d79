import { describe, expect, it } from '@jest/globals';
import { createHash, createPublicKey } from 'node:crypto';
import { compilePolicy, decide, parsePolicy, PolicyError, validatePolicy, type ImageDecision } from '../../src/policy/index.js';
import { Verifier } from '../../src/verify/verifier.js';
import type { AuthorityVerdict } from '../../src/verify/types.js';
import { containersImageSignature, serveBundles, serveLegacy } from '../support/stored-signatures.js';
import { fixtureBytes, fixtureText, MemoryRegistry, repository, type LayerSpec } from './cosign-fixtures.js';

// Recorded artifacts (PROVENANCE.md): a keyless cosign attestation with the root cosign's own
// test uses; sigstore-conformance DSSE bundles; containers/image's legacy keyless and
// key-plus-Rekor signatures; cosign v3.0.4's key bundle logged to public-good Rekor.
const ATTESTATION = 'bundles/cosign-oci-attestation-keyless';
const ATTESTED = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
const COSIGN_CUSTOM = 'https://cosign.sigstore.dev/attestation/v1';
const CODY = { issuer: 'https://github.com/login/oauth', subject: 'cody@soyland.com' };
const CONFORMANCE = 'bundles/sigstore-conformance';
const A_TXT = `sha256:${createHash('sha256').update(fixtureBytes(`${CONFORMANCE}/a.txt`)).digest('hex')}`;
const BEACON = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
};
const SLSA = 'https://slsa.dev/provenance/v1';
const PUBLIC_GOOD = 'bundles/trusted-roots/sigstore-go-testing-public-good.json';
const CI = 'legacy/containers-image';
const REKOR_PUB = fixtureText(`${CI}/rekor.pub`);
const TOBBY = 'bundles/tobby-fetch-cosign-v3.0.4-key';
const TOBBY_DIGEST = 'sha256:d7d5640c741c60b47fa4b5530daa20a6469b55754a89dd42adbadadb59f9093c';
const REPO = repository('registry.example.com/acme/app');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- real fixtures and policy documents, edited as loose JSON
type Json = Record<string, any>;
const json = (path: string): Json => JSON.parse(fixtureText(path)) as Json;
const bytes = (doc: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(doc));
type Identity = { issuer: string; subject?: string; subjectRegExp?: string };

/** A registry holding, for `digest`, these bundles as referrers and these layers at the `.sig` tag. */
function registryWith(digest: string, stored: { bundles?: Uint8Array[]; layers?: LayerSpec[] }): MemoryRegistry {
  const registry = new MemoryRegistry();
  if (stored.bundles) serveBundles(registry, REPO, digest, stored.bundles);
  if (stored.layers) serveLegacy(registry, REPO, digest, stored.layers);
  return registry;
}
function policyDoc(...authorities: Json[]): Json {
  return {
    apiVersion: 'sigward.dev/v1alpha1',
    kind: 'ClusterImagePolicy',
    metadata: { name: 'acme' },
    spec: { images: [{ glob: 'registry.example.com/**' }], authorities },
  };
}

function keyless(identity: Identity, root = fixtureText(PUBLIC_GOOD), extra: Json = {}): Json {
  return { name: 'ci', keyless: { ...identity, trustedRoot: { data: root } }, ...extra };
}

/** A trusted root whose Rekor log key is another real key (cosign.pub, which never signed a SET). */
function rootWithOtherRekorKey(path: string): string {
  const root = json(path);
  root.tlogs[0].publicKey.rawBytes = createPublicKey(fixtureText(`${CI}/cosign.pub`)).export({ type: 'spki', format: 'der' }).toString('base64');
  return JSON.stringify(root);
}

/** The decision for `digest` under the policy, reached through the verifier as the webhook reaches it. */
async function decideFor(registry: MemoryRegistry, digest: string, doc: Json): Promise<ImageDecision & { verdicts: AuthorityVerdict[] }> {
  const policy = parsePolicy(doc, 'test.yaml#1');
  const verdicts = await new Verifier({ registry }).verifyDigest(REPO, digest, policy.authorities);
  return { ...decide([{ policy, verdicts }]), verdicts };
}

const codes = (decision: { verdicts: AuthorityVerdict[] }): string[] => decision.verdicts.flatMap((v) => v.failures.map((f) => f.code));

function problemsOf(doc: Json): readonly string[] {
  try {
    validatePolicy(doc, 'test.yaml#1');
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  return [];
}

describe('keyless and Rekor authorities in a policy', () => {
  describe('when the document is validated', () => {
    it('rejects an authority with both key and keyless at its path', () => {
      const doc = policyDoc(keyless(CODY), { name: 'both', key: { data: fixtureText(`${CI}/cosign.pub`) }, keyless: keyless(CODY).keyless });
      expect(problemsOf(doc)).toEqual(['spec.authorities[1]: exactly one of key, keyless (found both)']);
    });

    it('rejects a subjectRegExp that is not a regular expression', () => {
      expect(problemsOf(policyDoc(keyless({ issuer: CODY.issuer, subjectRegExp: '([a-z' })))).toEqual([
        'spec.authorities[0].keyless.subjectRegExp: not a valid regular expression: "([a-z"',
      ]);
    });

    it('rejects a subjectRegExp that parses only once anchored, which would match any subject', () => {
      const escaping = 'https://github.com/acme/.*/v.*)|(.*';
      expect(problemsOf(policyDoc(keyless({ issuer: CODY.issuer, subjectRegExp: escaping })))).toEqual([
        `spec.authorities[0].keyless.subjectRegExp: not a valid regular expression: ${JSON.stringify(escaping)}`,
      ]);
    });

    it('asks for exactly one of subject and subjectRegExp, and for the issuer', () => {
      expect(problemsOf(policyDoc(keyless({ ...CODY, subjectRegExp: '.*' }), keyless({ issuer: '' }, undefined, { name: 'two' })))).toEqual([
        'spec.authorities[0].keyless: exactly one of subject, subjectRegExp (found both)',
        'spec.authorities[1].keyless.issuer: must not be empty',
        'spec.authorities[1].keyless: exactly one of subject, subjectRegExp (neither is set)',
      ]);
    });

    it('reports a trusted root that does not parse, or comes from a Secret outside a cluster, at its field', () => {
      const broken = json(PUBLIC_GOOD);
      broken.tlogs[0].publicKey.rawBytes = 'not base64!';
      const fromSecret = { ...keyless(CODY), name: 'secret', keyless: { ...CODY, trustedRoot: { secretRef: { name: 'roots', namespace: 'sigward-system', key: 'root.json' } } } };
      const problems = problemsOf(policyDoc(keyless(CODY, JSON.stringify(broken)), fromSecret));
      expect(problems).toHaveLength(2);
      expect(problems[0]).toMatch(/^spec\.authorities\[0\]\.keyless\.trustedRoot\.data: trusted root is invalid: tlogs\[0\]\.publicKey\.rawBytes/);
      expect(problems[1]).toBe('spec.authorities[1].keyless.trustedRoot.secretRef: Secrets can only be read in a cluster');
    });

    it('rejects rekor on a keyless authority, a Rekor key that is not a key, and two attestation types', () => {
      const doc = policyDoc(
        keyless(CODY, undefined, { rekor: { publicKey: REKOR_PUB } }),
        { name: 'key', key: { data: fixtureText(`${CI}/cosign2.pub`) }, rekor: { publicKey: 'not a key' } },
        { name: 'att', key: { data: fixtureText(`${CI}/cosign2.pub`) }, attestations: [{ predicateType: SLSA }, { predicateType: COSIGN_CUSTOM }] },
      );
      expect(problemsOf(doc)).toEqual([
        'spec.authorities[0].rekor: only a key authority takes one: a keyless authority\'s Rekor logs come from keyless.trustedRoot',
        'spec.authorities[1].rekor.publicKey: not a PEM public key',
        'spec.authorities[2].attestations: lists more than one predicate type: list one authority per type and raise spec.threshold to require them all',
      ]);
    });
  });

  describe('when it is compiled', () => {
    it('parses the trusted root and keeps the identity as written', () => {
      const [authority] = parsePolicy(policyDoc(keyless({ issuer: CODY.issuer, subjectRegExp: '[a-z]+@soyland\\.com' })), 'a.yaml#1').authorities;
      expect(authority?.keyless).toMatchObject({ kind: 'keyless', issuer: CODY.issuer, subjectRegExp: '[a-z]+@soyland\\.com' });
      expect(authority?.keyless?.trustedRoot.tlogs.length).toBeGreaterThan(0);
    });

    it('reads a trusted root held in a Secret', () => {
      const doc = policyDoc({ name: 'ci', keyless: { ...CODY, trustedRoot: { secretRef: { name: 'roots', namespace: 'sigward-system', key: 'root.json' } } } });
      const compiled = parsePolicy(doc, 'a.yaml#1', { resolveKey: (ref) => (ref.key === 'root.json' ? fixtureText(PUBLIC_GOOD) : undefined) });
      expect(compiled.authorities[0]?.keyless?.trustedRoot.tlogs.length).toBeGreaterThan(0);
    });

    it('changes the identity with any keyless or Rekor setting', () => {
      const keyAuthority = { name: 'release', key: { data: fixtureText(`${CI}/cosign2.pub`) } };
      const docs = [
        policyDoc(keyless(CODY)),
        policyDoc(keyless({ ...CODY, subject: 'mallory@soyland.com' })),
        policyDoc(keyless({ ...CODY, issuer: 'https://accounts.google.com' })),
        policyDoc(keyless({ issuer: CODY.issuer, subjectRegExp: 'cody@soyland\\.com' })),
        policyDoc(keyless(CODY, fixtureText(`${ATTESTATION}/trusted_root_pgi.json`))),
        policyDoc(keyless(CODY, undefined, { attestations: [{ predicateType: COSIGN_CUSTOM }] })),
        policyDoc(keyAuthority),
        policyDoc({ ...keyAuthority, rekor: { publicKey: REKOR_PUB } }),
      ];
      expect(new Set(docs.map((doc) => parsePolicy(doc, 'a.yaml#1').identity)).size).toBe(docs.length);
    });

    it('changes a custom resource\'s identity when the Secret holding its root is rotated', () => {
      const doc = policyDoc({ name: 'ci', keyless: { ...CODY, trustedRoot: { secretRef: { name: 'roots', namespace: 'sigward-system', key: 'root.json' } } } });
      doc.metadata = { name: 'acme', uid: '6f1c', generation: 3 };
      const identity = (root: string) => compilePolicy(validatePolicy(doc, 'cr', { resolveKey: () => root }), { resolveKey: () => root }).identity;
      const before = identity(fixtureText(PUBLIC_GOOD));
      expect(before).toMatch(/^6f1c:3:sha256:[0-9a-f]{64}$/);
      expect(identity(fixtureText(`${ATTESTATION}/trusted_root_pgi.json`))).not.toBe(before);
    });
  });

  describe('when a keyless attestation bundle is served as a referrer', () => {
    const attestationDoc = (identity: Identity = CODY, root = fixtureText(`${ATTESTATION}/trusted_root_pgi.json`)) =>
      policyDoc(keyless(identity, root, { attestations: [{ predicateType: COSIGN_CUSTOM }] }));
    const served = (bundle = fixtureBytes(`${ATTESTATION}/oci-attestation.sigstore.json`)) => registryWith(ATTESTED, { bundles: [bundle] });

    it('admits the image for the identity and predicate type that signed it', async () => {
      const decision = await decideFor(served(), ATTESTED, attestationDoc());
      expect(decision.action).toBe('allow');
      expect(decision.verdicts[0]?.signatures[0]?.keyId).toBe('cody@soyland.com (issuer https://github.com/login/oauth)');
    });

    it('refuses it as a plain signature with CLAIM_MISMATCH: an attestation is not a signature', async () => {
      const decision = await decideFor(served(), ATTESTED, policyDoc(keyless(CODY, fixtureText(`${ATTESTATION}/trusted_root_pgi.json`))));
      expect([decision.action, codes(decision)]).toEqual(['deny', ['CLAIM_MISMATCH']]);
    });

    it.each([
      ['another subject', 'IDENTITY_MISMATCH', () => attestationDoc({ ...CODY, subject: 'mallory@soyland.com' })],
      ['a pattern matching part of the subject', 'IDENTITY_MISMATCH', () => attestationDoc({ issuer: CODY.issuer, subjectRegExp: 'cody' })],
      ['another issuer', 'ISSUER_MISMATCH', () => attestationDoc({ ...CODY, issuer: 'https://accounts.google.com' })],
      ['a root with another Rekor key', 'TLOG_INVALID', () => attestationDoc(CODY, rootWithOtherRekorKey(`${ATTESTATION}/trusted_root_pgi.json`))],
    ])('denies under %s with %s', async (_what, code, doc) => {
      const decision = await decideFor(served(), ATTESTED, doc());
      expect([decision.action, codes(decision)]).toEqual(['deny', [code]]);
    });

    it('denies a bundle whose inclusion proof has one flipped bit with INCLUSION_PROOF_INVALID', async () => {
      const bundle = json(`${ATTESTATION}/oci-attestation.sigstore.json`);
      const hashes = bundle.verificationMaterial.tlogEntries[0].inclusionProof.hashes as string[];
      const hash = Buffer.from(hashes[0]!, 'base64');
      hash[31] = hash[31]! ^ 0x01;
      hashes[0] = hash.toString('base64');
      const decision = await decideFor(served(bytes(bundle)), ATTESTED, attestationDoc());
      expect([decision.action, codes(decision)]).toEqual(['deny', ['INCLUSION_PROOF_INVALID']]);
    });
  });

  describe('when sigstore-conformance DSSE bundles are served for the digest of their artifact', () => {
    const beacon = (root: string, regExp = false) => policyDoc(keyless(
      regExp ? { issuer: BEACON.issuer, subjectRegExp: 'https://github\\.com/sigstore-conformance/.+@refs/heads/main' } : BEACON,
      root,
      { attestations: [{ predicateType: SLSA }] },
    ));

    it.each([
      ['happy-path-intoto-in-dsse-v3 (Rekor v1)', 'happy-path-intoto-in-dsse-v3', fixtureText(PUBLIC_GOOD)],
      ['rekor2-dsse-happy-path (Rekor v2, its own root)', 'rekor2-dsse-happy-path', fixtureText(`${CONFORMANCE}/rekor2-dsse-happy-path/trusted_root.json`)],
    ])('admits %s', async (_what, dir, root) => {
      const registry = registryWith(A_TXT, { bundles: [fixtureBytes(`${CONFORMANCE}/${dir}/bundle.sigstore.json`)] });
      expect((await decideFor(registry, A_TXT, beacon(root, true))).action).toBe('allow');
    });

    it('denies dsse-invalid-sig_fail with SIGNATURE_INVALID', async () => {
      const registry = registryWith(A_TXT, { bundles: [fixtureBytes(`${CONFORMANCE}/dsse-invalid-sig_fail/bundle.sigstore.json`)] });
      const decision = await decideFor(registry, A_TXT, beacon(fixtureText(PUBLIC_GOOD)));
      expect([decision.action, codes(decision)]).toEqual(['deny', ['SIGNATURE_INVALID']]);
    });
  });

  describe('when a legacy keyless signature is stored at the .sig tag', () => {
    const { layer, digest } = containersImageSignature('fulcio-rekor-valid');
    const registry = registryWith(digest, { layers: [layer] });
    const mitr = { issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' };

    it('admits it for the identity in its certificate', async () => {
      expect((await decideFor(registry, digest, policyDoc(keyless(mitr)))).action).toBe('allow');
    });

    it.each([
      ['another subject', 'IDENTITY_MISMATCH', keyless({ ...mitr, subject: 'someone@redhat.com' })],
      ['another issuer', 'ISSUER_MISMATCH', keyless({ ...mitr, issuer: 'https://accounts.google.com' })],
      ['a root with another Rekor key', 'TLOG_INVALID', keyless(mitr, rootWithOtherRekorKey(PUBLIC_GOOD))],
    ])('denies under %s with %s', async (_what, code, authority) => {
      const decision = await decideFor(registry, digest, policyDoc(authority));
      expect([decision.action, codes(decision)]).toEqual(['deny', [code]]);
    });

    it('refuses a key-signed layer with CERTIFICATE_INVALID: it names no identity', async () => {
      const valid = containersImageSignature('valid');
      const keyOnly = registryWith(valid.digest, { layers: [valid.layer] });
      expect(codes(await decideFor(keyOnly, valid.digest, policyDoc(keyless(mitr))))).toEqual(['CERTIFICATE_INVALID']);
    });
  });

  describe('when a key authority names a Rekor key', () => {
    const withRekor = (key: string, rekor?: string): Json => policyDoc({ name: 'release', key: { data: fixtureText(key) }, ...(rekor ? { rekor: { publicKey: rekor } } : {}) });

    describe('and the legacy signature carries a Rekor bundle (key-rekor-valid)', () => {
      const { layer, digest } = containersImageSignature('key-rekor-valid');
      const registry = registryWith(digest, { layers: [layer] });

      it('admits it when the SET verifies with rekor.pub', async () => {
        expect((await decideFor(registry, digest, withRekor(`${CI}/cosign2.pub`, REKOR_PUB))).action).toBe('allow');
      });

      it('denies with TLOG_INVALID when another key is named as Rekor\'s', async () => {
        expect(codes(await decideFor(registry, digest, withRekor(`${CI}/cosign2.pub`, fixtureText(`${CI}/cosign.pub`))))).toEqual(['TLOG_INVALID']);
      });
    });

    describe('and the legacy signature was never logged (valid)', () => {
      const { layer, digest } = containersImageSignature('valid');
      const registry = registryWith(digest, { layers: [layer] });

      it('denies with TLOG_MISSING', async () => {
        expect(codes(await decideFor(registry, digest, withRekor(`${CI}/cosign.pub`, REKOR_PUB)))).toEqual(['TLOG_MISSING']);
      });

      it('admits it without rekor, as --insecure-ignore-tlog', async () => {
        expect((await decideFor(registry, digest, withRekor(`${CI}/cosign.pub`))).action).toBe('allow');
      });
    });

    describe('and the cosign v3.0.4 bundle is served', () => {
      const serve = (bundle: Uint8Array) => registryWith(TOBBY_DIGEST, { bundles: [bundle] });

      it('admits it when its entry verifies with rekor.pub', async () => {
        expect((await decideFor(serve(fixtureBytes(`${TOBBY}/bundle-sigstore.json`)), TOBBY_DIGEST, withRekor(`${TOBBY}/bundle-cosign.pub`, REKOR_PUB))).action).toBe('allow');
      });

      it('denies with TLOG_INVALID under another Rekor key', async () => {
        const decision = await decideFor(serve(fixtureBytes(`${TOBBY}/bundle-sigstore.json`)), TOBBY_DIGEST, withRekor(`${TOBBY}/bundle-cosign.pub`, fixtureText(`${CI}/cosign.pub`)));
        expect(codes(decision)).toEqual(['TLOG_INVALID']);
      });

      it('denies with TLOG_MISSING when its log entry is removed', async () => {
        const bundle = json(`${TOBBY}/bundle-sigstore.json`);
        delete bundle.verificationMaterial.tlogEntries;
        expect(codes(await decideFor(serve(bytes(bundle)), TOBBY_DIGEST, withRekor(`${TOBBY}/bundle-cosign.pub`, REKOR_PUB)))).toEqual(['TLOG_MISSING']);
      });
    });
  });
});
