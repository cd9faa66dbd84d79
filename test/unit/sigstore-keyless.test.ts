import { describe, expect, it } from '@jest/globals';
import { createHash, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { errorCode } from '../../src/errors.js';
import { parseBundle, parseTrustedRoot, verifyArtifactBundle, verifyImageBundle, type KeylessAuthority } from '../../src/sigstore/index.js';
import { fixtureBytes, fixtureText } from './cosign-fixtures.js';

// A real keyless cosign attestation (public-good Fulcio and Rekor) and the root cosign's own
// test verifies it with, see PROVENANCE.md §4.
const DIR = 'bundles/cosign-oci-attestation-keyless';
const ROOT_PATH = `${DIR}/trusted_root_pgi.json`;
const SUBJECT = 'sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4';
const PREDICATE = 'https://cosign.sigstore.dev/attestation/v1';
const IDENTITY = { issuer: 'https://github.com/login/oauth', subject: 'cody@soyland.com' };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- real fixtures, mutated in place as loose JSON
type Json = Record<string, any>;

function json(path: string): Json {
  return JSON.parse(fixtureText(path)) as Json;
}

function authority(overrides: Partial<KeylessAuthority> = {}, root: Json = json(ROOT_PATH)): KeylessAuthority {
  return { kind: 'keyless', ...IDENTITY, trustedRoot: parseTrustedRoot(JSON.stringify(root)), ...overrides };
}

function verify(doc: Json, keyless: KeylessAuthority) {
  return verifyImageBundle(parseBundle(new TextEncoder().encode(JSON.stringify(doc))), { digest: SUBJECT, predicateType: PREDICATE }, keyless);
}

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'VERIFIED';
  } catch (err) {
    return errorCode(err);
  }
}

function otherKeyDer(): string {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * The bundle's entry re-signed by a log of our own, which the root then trusts instead of
 * Rekor: its SET and checkpoint are genuine for that log, so the only thing that can differ
 * from the real bundle is the integrated time the log vouches for.
 */
function loggedAt(integratedTime: number): { doc: Json; root: Json } {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const logId = createHash('sha256').update(spki).digest();
  const doc = json(`${DIR}/oci-attestation.sigstore.json`);
  const entry = doc.verificationMaterial.tlogEntries[0];
  entry.logId.keyId = logId.toString('base64');
  entry.integratedTime = String(integratedTime);
  const payload = `{"body":"${entry.canonicalizedBody as string}","integratedTime":${integratedTime},"logID":"${logId.toString('hex')}","logIndex":${entry.logIndex as string}}`;
  entry.inclusionPromise.signedEntryTimestamp = sign('sha256', Buffer.from(payload), privateKey).toString('base64');
  const note = `test-log.example\n${entry.inclusionProof.treeSize as string}\n${entry.inclusionProof.rootHash as string}\n`;
  entry.inclusionProof.checkpoint.envelope = `${note}\n\u2014 test-log.example ${noteSignature(note, logId, privateKey)}\n`;
  const root = json(ROOT_PATH);
  root.tlogs = [{
    baseUrl: 'https://test-log.example',
    hashAlgorithm: 'SHA2_256',
    publicKey: { rawBytes: spki.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start: '2020-01-01T00:00:00Z' } },
    logId: { keyId: logId.toString('base64') },
  }];
  return { doc, root };
}

function noteSignature(note: string, logId: Buffer, key: KeyObject): string {
  return Buffer.concat([logId.subarray(0, 4), sign('sha256', Buffer.from(note), key)]).toString('base64');
}

const LEAF = new X509Certificate(Buffer.from(json(`${DIR}/oci-attestation.sigstore.json`).verificationMaterial.certificate.rawBytes as string, 'base64'));

describe('verifyImageBundle with a keyless authority', () => {
  describe('when the attestation is verified with the identity that signed it', () => {
    it('returns the issuer, subject, log index and integrated time', () => {
      const verified = verify(json(`${DIR}/oci-attestation.sigstore.json`), authority());
      expect(verified.signer).toEqual({ kind: 'keyless', ...IDENTITY });
      expect(verified.logIndexes).toEqual([175508996n]);
      expect(verified.signingTimes.map((time) => time.toISOString())).toEqual(['2025-02-28T19:18:11.000Z']);
      expect(verified.statement.predicateType).toBe(PREDICATE);
    });
  });

  describe('when the subject is matched by an anchored regular expression', () => {
    it('verifies when the expression covers the whole subject', () => {
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({ subject: undefined, subjectRegExp: '[a-z]+@soyland\\.com' })))).toBe('VERIFIED');
    });

    it('rejects with IDENTITY_MISMATCH when it matches only part of it', () => {
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({ subject: undefined, subjectRegExp: 'cody' })))).toBe('IDENTITY_MISMATCH');
    });
  });

  describe('when the authority names another subject', () => {
    it('rejects with IDENTITY_MISMATCH', () => {
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({ subject: 'mallory@soyland.com' })))).toBe('IDENTITY_MISMATCH');
    });
  });

  describe('when the authority names another issuer', () => {
    it('rejects with ISSUER_MISMATCH', () => {
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({ issuer: 'https://accounts.google.com' })))).toBe('ISSUER_MISMATCH');
    });
  });

  describe('when the authority names neither a subject nor a pattern', () => {
    it('rejects with POLICY_INVALID', () => {
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({ subject: undefined })))).toBe('POLICY_INVALID');
    });
  });

  describe('when the trusted root names a different Rekor key', () => {
    it('rejects with TLOG_INVALID', () => {
      const root = json(ROOT_PATH);
      root.tlogs[0].publicKey.rawBytes = otherKeyDer();
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({}, root)))).toBe('TLOG_INVALID');
    });
  });

  describe('when one byte of an inclusion-proof hash is changed', () => {
    it('rejects with INCLUSION_PROOF_INVALID', () => {
      const doc = json(`${DIR}/oci-attestation.sigstore.json`);
      const hashes = doc.verificationMaterial.tlogEntries[0].inclusionProof.hashes as string[];
      const bytes = Buffer.from(hashes[0]!, 'base64');
      bytes[31] = bytes[31]! ^ 0x80;
      hashes[0] = bytes.toString('base64');
      expect(codeOf(() => verify(doc, authority()))).toBe('INCLUSION_PROOF_INVALID');
    });
  });

  describe('when the trusted root names different CT log keys', () => {
    it('rejects with SCT_INVALID', () => {
      const root = json(ROOT_PATH);
      for (const ctlog of root.ctlogs as Json[]) ctlog.publicKey.rawBytes = otherKeyDer();
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({}, root)))).toBe('SCT_INVALID');
    });
  });

  describe('when the trusted root holds another Fulcio', () => {
    it('rejects with CERTIFICATE_INVALID', () => {
      const root = json(ROOT_PATH);
      root.certificateAuthorities = json('bundles/sigstore-conformance/intoto-with-custom-trust-root/trusted_root.json').certificateAuthorities;
      expect(codeOf(() => verify(json(`${DIR}/oci-attestation.sigstore.json`), authority({}, root)))).toBe('CERTIFICATE_INVALID');
    });
  });

  describe('when a trusted log vouches for a time inside the certificate validity', () => {
    it('verifies (the re-signing itself changes nothing else)', () => {
      const { doc, root } = loggedAt(Math.floor(LEAF.validFromDate.getTime() / 1000) + 60);
      expect(codeOf(() => verify(doc, authority({}, root)))).toBe('VERIFIED');
    });
  });

  describe('when a trusted log vouches for a time after the certificate expired', () => {
    it('rejects with CERTIFICATE_EXPIRED', () => {
      const { doc, root } = loggedAt(Math.floor(LEAF.validToDate.getTime() / 1000) + 3600);
      expect(codeOf(() => verify(doc, authority({}, root)))).toBe('CERTIFICATE_EXPIRED');
    });
  });

  describe('when a Rekor v2 bundle has no time the root can verify', () => {
    it('rejects with TIMESTAMP_INVALID', () => {
      const dir = 'bundles/sigstore-conformance/rekor2-happy-path';
      const root = json(`${dir}/trusted_root.json`);
      root.timestampAuthorities = [];
      const keyless = authority({
        issuer: 'https://token.actions.githubusercontent.com',
        subject: 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
      }, root);
      const run = () => verifyArtifactBundle(parseBundle(fixtureBytes(`${dir}/bundle.sigstore.json`)), fixtureBytes('bundles/sigstore-conformance/a.txt'), keyless);
      expect(codeOf(run)).toBe('TIMESTAMP_INVALID');
    });
  });

  describe('when the bundle is verified for another image', () => {
    it('rejects with CLAIM_MISMATCH', () => {
      const bundle = parseBundle(fixtureBytes(`${DIR}/oci-attestation.sigstore.json`));
      const run = () => verifyImageBundle(bundle, { digest: `sha256:${'0'.repeat(64)}`, predicateType: PREDICATE }, authority());
      expect(codeOf(run)).toBe('CLAIM_MISMATCH');
    });
  });
});
