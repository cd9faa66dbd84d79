import { describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { errorCode } from '../../src/errors.js';
import { parseBundle, parseTrustedRoot, verifyImageBundle, type KeyAuthority } from '../../src/sigstore/index.js';
import { fixtureBytes, fixtureText } from './cosign-fixtures.js';

// A real cosign v3.0.4 `sign --key` bundle (DSSE, logged to public-good Rekor), see PROVENANCE.md §3.
const DIR = 'bundles/tobby-fetch-cosign-v3.0.4-key';
const KEY = parsePublicKey(fixtureText(`${DIR}/bundle-cosign.pub`));
const OTHER_KEY = parsePublicKey(fixtureText('legacy/containers-image/cosign.pub'));
const REKOR_KEY = parsePublicKey(fixtureText('legacy/containers-image/rekor.pub'));
const ROOT_PATH = 'bundles/trusted-roots/sigstore-go-testing-public-good.json';
const ROOT = parseTrustedRoot(fixtureText(ROOT_PATH));
const SUBJECT = (JSON.parse(fixtureText(`${DIR}/bundle-referring-manifest.json`)) as { subject: { digest: string } }).subject.digest;
const OTHER_DIGEST = 'sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- real fixtures, mutated in place as loose JSON
type Json = Record<string, any>;

function bundleJson(): Json {
  return JSON.parse(fixtureText(`${DIR}/bundle-sigstore.json`)) as Json;
}

function toBytes(doc: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(doc));
}

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = bytes[index]! ^ 0x01;
  return bytes.toString('base64');
}

/** The public-good root with its Rekor key replaced by another key (same log ID): a root that trusts someone else's log. */
function rootWithOtherRekorKey(): string {
  const root = JSON.parse(fixtureText(ROOT_PATH)) as Json;
  const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' });
  root.tlogs[0].publicKey.rawBytes = other.toString('base64');
  return JSON.stringify(root);
}

function verify(doc: Json, authority: KeyAuthority, digest = SUBJECT, extra: Json = {}) {
  return verifyImageBundle(parseBundle(toBytes(doc)), { digest, ...extra }, authority);
}

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'VERIFIED';
  } catch (err) {
    return errorCode(err);
  }
}

describe('verifyImageBundle with a key authority', () => {
  describe('when the cosign v3.0.4 bundle is verified at its subject digest with its key, offline', () => {
    it('returns the statement, the payload and the key, and reads no log entry', () => {
      const verified = verify(bundleJson(), { kind: 'key', key: KEY });
      expect(verified.signer).toEqual({ kind: 'key', keyId: KEY.id });
      expect(verified.statement.predicateType).toBe('https://sigstore.dev/cosign/sign/v1');
      expect(verified.statement.subjects[0]!.digest.sha256).toBe(SUBJECT.slice('sha256:'.length));
      expect(new TextDecoder().decode(verified.payload)).toContain('"_type":"https://in-toto.io/Statement/v1"');
      expect(verified.logIndexes).toEqual([]);
    });
  });

  describe('when the authority also trusts the public-good root', () => {
    it('verifies the Rekor entry and returns its index and integrated time', () => {
      const verified = verify(bundleJson(), { kind: 'key', key: KEY, rekor: ROOT });
      expect(verified.logIndexes).toEqual([2440595631n]);
      expect(verified.signingTimes.map((time) => time.toISOString())).toEqual(['2026-08-12T20:53:28.000Z']);
    });
  });

  describe('when the authority names the Rekor key alone', () => {
    it('verifies the entry against it', () => {
      expect(verify(bundleJson(), { kind: 'key', key: KEY, rekor: { publicKeys: [REKOR_KEY] } }).logIndexes).toEqual([2440595631n]);
    });
  });

  describe('when the bundle is verified for another image digest', () => {
    it('rejects with CLAIM_MISMATCH', () => {
      expect(codeOf(() => verify(bundleJson(), { kind: 'key', key: KEY }, OTHER_DIGEST))).toBe('CLAIM_MISMATCH');
    });
  });

  describe('when the bundle is verified with another key', () => {
    it('rejects with SIGNATURE_INVALID', () => {
      expect(codeOf(() => verify(bundleJson(), { kind: 'key', key: OTHER_KEY }))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the policy requires an annotation the subject lacks', () => {
    it('rejects with ANNOTATION_MISMATCH', () => {
      const run = () => verify(bundleJson(), { kind: 'key', key: KEY }, SUBJECT, { annotations: { env: 'prod' } });
      expect(codeOf(run)).toBe('ANNOTATION_MISMATCH');
    });
  });

  describe('when an attestation predicate is asked of a signature bundle', () => {
    it('rejects with CLAIM_MISMATCH', () => {
      const run = () => verify(bundleJson(), { kind: 'key', key: KEY }, SUBJECT, { predicateType: 'https://slsa.dev/provenance/v1' });
      expect(codeOf(run)).toBe('CLAIM_MISMATCH');
    });
  });

  describe('when the envelope claims another payload type', () => {
    it('rejects with SIGNATURE_INVALID, because the PAE signs the type', () => {
      const doc = bundleJson();
      doc.dsseEnvelope.payloadType = 'application/vnd.dev.cosign.simplesigning.v1+json';
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY }))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the trusted root names a different Rekor key', () => {
    it('rejects with TLOG_INVALID', () => {
      const rekor = parseTrustedRoot(rootWithOtherRekorKey());
      expect(codeOf(() => verify(bundleJson(), { kind: 'key', key: KEY, rekor }))).toBe('TLOG_INVALID');
    });
  });

  describe('when one byte of an inclusion-proof hash is changed', () => {
    const doc = bundleJson();
    const proof = doc.verificationMaterial.tlogEntries[0].inclusionProof;
    proof.hashes[3] = flipByte(proof.hashes[3] as string, 7);

    it('rejects with INCLUSION_PROOF_INVALID when a log is required', () => {
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY, rekor: ROOT }))).toBe('INCLUSION_PROOF_INVALID');
    });

    it('still verifies offline, where log entries are not read', () => {
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY }))).toBe('VERIFIED');
    });
  });

  describe('when the checkpoint commits to another root hash', () => {
    it('rejects with TLOG_INVALID, since the log signed another text', () => {
      const doc = bundleJson();
      const entry = doc.verificationMaterial.tlogEntries[0];
      const envelope = entry.inclusionProof.checkpoint.envelope as string;
      entry.inclusionProof.checkpoint.envelope = envelope.replace(entry.inclusionProof.rootHash as string, flipByte(entry.inclusionProof.rootHash as string, 0));
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY, rekor: ROOT }))).toBe('TLOG_INVALID');
    });
  });

  describe('when the bundle has no log entry (protobuf JSON then omits the field) and a log is required', () => {
    const doc = bundleJson();
    delete doc.verificationMaterial.tlogEntries;

    it('rejects with TLOG_MISSING', () => {
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY, rekor: ROOT }))).toBe('TLOG_MISSING');
    });

    it('verifies offline', () => {
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY }))).toBe('VERIFIED');
    });
  });

  describe('when the logged body is swapped for another entry of the same log', () => {
    it('rejects with TLOG_INVALID, since the SET signs the body', () => {
      const doc = bundleJson();
      const other = JSON.parse(fixtureText('bundles/cosign-oci-attestation-keyless/oci-attestation.sigstore.json')) as Json;
      doc.verificationMaterial.tlogEntries[0].canonicalizedBody = other.verificationMaterial.tlogEntries[0].canonicalizedBody;
      expect(codeOf(() => verify(doc, { kind: 'key', key: KEY, rekor: ROOT }))).toBe('TLOG_INVALID');
    });
  });

  describe('when a message-signature bundle is offered for an image', () => {
    it('rejects with BUNDLE_UNSUPPORTED, as cosign accepts only DSSE for images', () => {
      const bundle = parseBundle(fixtureBytes('bundles/sigstore-conformance/managed-key-happy-path/bundle.sigstore.json'));
      const key = parsePublicKey(fixtureText('bundles/sigstore-conformance/managed-key-happy-path/key.pub'));
      const digest = `sha256:${createHash('sha256').update(fixtureBytes('bundles/sigstore-conformance/a.txt')).digest('hex')}`;
      expect(codeOf(() => verifyImageBundle(bundle, { digest }, { kind: 'key', key }))).toBe('BUNDLE_UNSUPPORTED');
    });
  });

  describe('when the expected digest is not a sha256 digest', () => {
    it('rejects with DIGEST_INVALID', () => {
      expect(codeOf(() => verify(bundleJson(), { kind: 'key', key: KEY }, 'sha256:D7D5'))).toBe('DIGEST_INVALID');
    });
  });
});
