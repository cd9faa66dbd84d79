import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ANNOTATION } from '../../src/constants.js';
import { errorCode } from '../../src/errors.js';
import { parseTrustedRoot, verifyLegacyKeyless, type KeylessAuthority, type LegacyKeylessSignature } from '../../src/sigstore/index.js';
import { fixtureBytes, fixtureText, readStoredSignature } from './cosign-fixtures.js';

// A keyless cosign signature made with public-good Fulcio and Rekor in 2023, stored by
// containers/image (PROVENANCE.md §1); c/image accepts it for mitr@redhat.com via GitHub.
const DIR = 'legacy/containers-image';
const STORED = readStoredSignature(`${DIR}/dir-img-cosign-fulcio-rekor-valid/signature-1`);
const DIGEST = `sha256:${createHash('sha256').update(fixtureBytes(`${DIR}/dir-img-cosign-fulcio-rekor-valid/manifest.json`)).digest('hex')}`;
const ROOT = parseTrustedRoot(fixtureText('bundles/trusted-roots/sigstore-go-testing-public-good.json'));
const AUTHORITY: KeylessAuthority = {
  kind: 'keyless',
  issuer: 'https://github.com/login/oauth',
  subject: 'mitr@redhat.com',
  trustedRoot: ROOT,
};

function layer(annotations: Record<string, string> = STORED.annotations, payload = STORED.payload): LegacyKeylessSignature {
  const signature = new Uint8Array(Buffer.from(annotations[ANNOTATION.signature]!, 'base64'));
  return { payload, signature, annotations };
}

function codeOf(run: () => unknown): string {
  try {
    run();
    return 'VERIFIED';
  } catch (err) {
    return errorCode(err);
  }
}

describe('verifyLegacyKeyless', () => {
  describe('when the layer is verified at its image digest with the signing identity', () => {
    it('returns the identity and the Rekor entry', () => {
      const proof = verifyLegacyKeyless(layer(), { digest: DIGEST }, AUTHORITY);
      expect(proof.signer).toEqual({ kind: 'keyless', issuer: 'https://github.com/login/oauth', subject: 'mitr@redhat.com' });
      expect(proof.logIndexes).toHaveLength(1);
    });
  });

  describe('when it is verified for another digest', () => {
    it('rejects with CLAIM_MISMATCH', () => {
      expect(codeOf(() => verifyLegacyKeyless(layer(), { digest: `sha256:${'1'.repeat(64)}` }, AUTHORITY))).toBe('CLAIM_MISMATCH');
    });
  });

  describe('when another subject is required', () => {
    it('rejects with IDENTITY_MISMATCH', () => {
      expect(codeOf(() => verifyLegacyKeyless(layer(), { digest: DIGEST }, { ...AUTHORITY, subject: 'someone@redhat.com' }))).toBe('IDENTITY_MISMATCH');
    });
  });

  describe('when the payload was changed after signing', () => {
    it('rejects with SIGNATURE_INVALID', () => {
      const payload = new TextEncoder().encode(new TextDecoder().decode(STORED.payload).replace('"optional":null', '"optional":{}'));
      expect(codeOf(() => verifyLegacyKeyless(layer(STORED.annotations, payload), { digest: DIGEST }, AUTHORITY))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the Rekor bundle annotation is missing', () => {
    it('rejects with TLOG_MISSING', () => {
      const rest = Object.fromEntries(Object.entries(STORED.annotations).filter(([name]) => name !== ANNOTATION.rekorBundle));
      expect(codeOf(() => verifyLegacyKeyless(layer(rest), { digest: DIGEST }, AUTHORITY))).toBe('TLOG_MISSING');
    });
  });

  describe('when the SET was made for another integrated time', () => {
    it('rejects with TLOG_INVALID', () => {
      const rekor = JSON.parse(STORED.annotations[ANNOTATION.rekorBundle]!) as { Payload: { integratedTime: number } };
      rekor.Payload.integratedTime += 1;
      const annotations = { ...STORED.annotations, [ANNOTATION.rekorBundle]: JSON.stringify(rekor) };
      expect(codeOf(() => verifyLegacyKeyless(layer(annotations), { digest: DIGEST }, AUTHORITY))).toBe('TLOG_INVALID');
    });
  });

  describe('when the certificate carries no SCT (a 2021 Fulcio certificate)', () => {
    it('rejects with SCT_INVALID, as cosign does without --insecure-ignore-sct', () => {
      const rs = 'legacy/sigstore-rs';
      const annotations = {
        [ANNOTATION.signature]: fixtureText(`${rs}/kubewarden-keyless.sig.b64`).trim(),
        [ANNOTATION.certificate]: fixtureText(`${rs}/kubewarden-keyless.cert.pem`),
        [ANNOTATION.rekorBundle]: fixtureText(`${rs}/kubewarden-keyless.bundle.json`),
      };
      const run = () => verifyLegacyKeyless(layer(annotations, fixtureBytes(`${rs}/kubewarden-keyless.payload.json`)), { digest: DIGEST }, {
        ...AUTHORITY,
        subjectRegExp: '.*',
        subject: undefined,
        issuer: 'https://github.com/login/oauth',
      });
      expect(codeOf(run)).toBe('SCT_INVALID');
    });
  });
});
