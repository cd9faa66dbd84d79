import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import { parseSimpleSigningPayload, verifyLegacySignature, type SignatureCandidate } from '../../src/cosign/index.js';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { candidateFingerprint } from '../../src/cosign/limits.js';
import { digestOf } from '../../src/crypto/hash.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import type { PublicKey } from '../../src/crypto/types.js';
import { SigwardError } from '../../src/errors.js';
import { fixtureBytes, fixtureText } from './cosign-fixtures.js';

const TOBBY = 'legacy/tobby-fetch-cosign-v3.0.4';
const TOBBY_DIGEST = fixtureText(`${TOBBY}/subject-digest.txt`).trim();
const TOBBY_KEY = parsePublicKey(fixtureText(`${TOBBY}/cosign.pub`));
const CI_KEY = parsePublicKey(fixtureText('legacy/containers-image/cosign.pub'));
const CI_DIGEST = digestOf(fixtureBytes('legacy/containers-image/dir-img-cosign-valid/manifest.json'));

function candidate(payload: Uint8Array, signature: Uint8Array, format: 'legacy' | 'bundle' = 'legacy'): SignatureCandidate {
  const descriptor = { mediaType: MEDIA_TYPE.simpleSigning, digest: digestOf(payload), size: payload.length };
  const annotations = { [ANNOTATION.signature]: Buffer.from(signature).toString('base64') };
  return {
    location: 'registry.test/app:sha256-x.sig layer 0',
    format,
    descriptor,
    payload,
    signature,
    annotations,
    fingerprint: candidateFingerprint(descriptor, annotations),
  };
}

function recorded(dir: string, name: string): SignatureCandidate {
  return candidate(
    fixtureBytes(`${dir}/${name}.payload.json`),
    new Uint8Array(Buffer.from(fixtureText(`${dir}/${name}.sig.b64`).trim(), 'base64')),
  );
}

const tobby = candidate(fixtureBytes(`${TOBBY}/payload.json`), new Uint8Array(Buffer.from(fixtureText(`${TOBBY}/signature.b64`).trim(), 'base64')));
const withTag = recorded('legacy/containers-image/extracted', 'valid-with-tag.signature-1');
const ciValid = recorded('legacy/containers-image/extracted', 'valid.signature-1');

/** A key made here, to sign payloads no recorded fixture has (malformed, other types). */
const local = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const LOCAL_KEY: PublicKey = parsePublicKey(local.publicKey.export({ type: 'spki', format: 'pem' }).toString());
function signedHere(payload: string): SignatureCandidate {
  const bytes = new TextEncoder().encode(payload);
  return candidate(bytes, new Uint8Array(sign('sha256', bytes, local.privateKey)));
}
const simpleSigning = (digest: string, type = 'cosign container image signature', optional = 'null') =>
  `{"critical":{"identity":{"docker-reference":"registry.test/app"},"image":{"docker-manifest-digest":"${digest}"},"type":"${type}"},"optional":${optional}}`;

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    if (err instanceof SigwardError) return err.code;
    throw err;
  }
  return 'verified';
}

describe('verifyLegacySignature', () => {
  describe('when the real cosign v3.0.4 signature is checked for its own digest', () => {
    it('returns the exact signed payload bytes and the key id', () => {
      const verified = verifyLegacySignature(tobby, TOBBY_KEY, { digest: TOBBY_DIGEST });
      expect(verified).toEqual({ location: tobby.location, format: 'legacy', payload: tobby.payload, keyId: TOBBY_KEY.id });
      expect(verified.payload).toBe(tobby.payload);
    });
  });

  describe('when a signature valid for image A is presented for image B', () => {
    it('rejects with CLAIM_MISMATCH naming both digests', () => {
      const otherDigest = CI_DIGEST;
      const check = () => verifyLegacySignature(tobby, TOBBY_KEY, { digest: otherDigest });
      expect(codeOf(check)).toBe('CLAIM_MISMATCH');
      expect(check).toThrow(TOBBY_DIGEST);
      expect(check).toThrow(otherDigest);
    });

    it('compares exactly: the same hex in upper case is another digest', () => {
      const upper = `sha256:${TOBBY_DIGEST.slice(7).toUpperCase()}`;
      expect(codeOf(() => verifyLegacySignature(tobby, TOBBY_KEY, { digest: upper }))).toBe('CLAIM_MISMATCH');
    });
  });

  describe('when the key did not make the signature', () => {
    it('rejects with SIGNATURE_INVALID', () => {
      expect(codeOf(() => verifyLegacySignature(tobby, CI_KEY, { digest: TOBBY_DIGEST }))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the signature does not verify and the payload is not JSON either', () => {
    it('reports SIGNATURE_INVALID: the payload is never parsed before its signature verifies', () => {
      const attachment = candidate(fixtureBytes('legacy/containers-image/extracted/other-attachment.signature-1.payload.bin'), ciValid.signature);
      expect(codeOf(() => verifyLegacySignature(attachment, CI_KEY, { digest: CI_DIGEST }))).toBe('SIGNATURE_INVALID');
    });
  });

  describe('when the key signed something that is not a simple-signing payload', () => {
    it.each([
      ['text', 'hello world'],
      ['an array', '[]'],
      ['no digest', '{"critical":{"image":{},"type":"cosign container image signature"},"optional":null}'],
      ['a numeric digest', '{"critical":{"image":{"docker-manifest-digest":5},"type":"cosign container image signature"}}'],
      ['optional as an array', simpleSigning('sha256:' + 'a'.repeat(64), 'cosign container image signature', '[]')],
      ['a BOM before the JSON', '\uFEFF' + simpleSigning('sha256:' + 'a'.repeat(64))],
    ])('rejects %s with PAYLOAD_INVALID', (_what, payload) => {
      expect(codeOf(() => verifyLegacySignature(signedHere(payload), LOCAL_KEY, { digest: 'sha256:' + 'a'.repeat(64) }))).toBe('PAYLOAD_INVALID');
    });

    it('rejects another critical.type with PAYLOAD_INVALID', () => {
      const digest = 'sha256:' + 'b'.repeat(64);
      const other = signedHere(simpleSigning(digest, 'atomic container signature'));
      expect(codeOf(() => verifyLegacySignature(other, LOCAL_KEY, { digest }))).toBe('PAYLOAD_INVALID');
    });
  });

  describe('when the signed bytes are not in the canonical encoding', () => {
    it('verifies them as they are, without re-serializing', () => {
      const digest = 'sha256:' + 'c'.repeat(64);
      const pretty = JSON.stringify(JSON.parse(simpleSigning(digest)), null, 2) + '\n';
      expect(verifyLegacySignature(signedHere(pretty), LOCAL_KEY, { digest }).payload).toEqual(new TextEncoder().encode(pretty));
    });
  });

  describe('when annotations are required (the real containers/image payload with creator and timestamp)', () => {
    const check = (annotations: Record<string, string>) => codeOf(() => verifyLegacySignature(withTag, CI_KEY, { digest: CI_DIGEST, annotations }));

    it('verifies when each required annotation is an equal string', () => {
      expect(check({ creator: 'containers/image 5.21.2-dev' })).toBe('verified');
    });

    it('rejects a different value with ANNOTATION_MISMATCH', () => {
      expect(check({ creator: 'someone else' })).toBe('ANNOTATION_MISMATCH');
    });

    it('rejects a missing annotation with ANNOTATION_MISMATCH', () => {
      expect(check({ creator: 'containers/image 5.21.2-dev', env: 'prod' })).toBe('ANNOTATION_MISMATCH');
    });

    it('rejects a non-string value even when its text is equal, as cosign does', () => {
      expect(check({ timestamp: '1657296609' })).toBe('ANNOTATION_MISMATCH');
    });

    it('does not read inherited properties as annotations', () => {
      expect(check({ constructor: 'function Object() { [native code] }' })).toBe('ANNOTATION_MISMATCH');
    });

    it('rejects any required annotation when optional is null', () => {
      expect(codeOf(() => verifyLegacySignature(ciValid, CI_KEY, { digest: CI_DIGEST, annotations: { env: 'prod' } }))).toBe('ANNOTATION_MISMATCH');
      expect(codeOf(() => verifyLegacySignature(ciValid, CI_KEY, { digest: CI_DIGEST, annotations: {} }))).toBe('verified');
    });
  });

  describe('when the candidate is not a legacy signature', () => {
    it('rejects with SIGNATURE_MALFORMED', () => {
      const bundle = { ...tobby, format: 'bundle' as const };
      expect(codeOf(() => verifyLegacySignature(bundle, TOBBY_KEY, { digest: TOBBY_DIGEST }))).toBe('SIGNATURE_MALFORMED');
    });
  });
});

describe('parseSimpleSigningPayload', () => {
  it('reads the real payload fields', () => {
    const payload = parseSimpleSigningPayload(withTag.payload);
    expect(payload.critical).toEqual({
      type: 'cosign container image signature',
      image: { 'docker-manifest-digest': CI_DIGEST },
      identity: { 'docker-reference': '192.168.64.2:5000/skopeo-signed:tag' },
    });
    expect(payload.optional).toEqual({ creator: 'containers/image 5.21.2-dev', timestamp: 1657296609 });
  });

  it('reads an absent optional as null', () => {
    const payload = parseSimpleSigningPayload(new TextEncoder().encode('{"critical":{"image":{"docker-manifest-digest":"d"},"type":"t"}}'));
    expect(payload.optional).toBeNull();
  });

  it('reports every problem with its field path at once', () => {
    const bytes = new TextEncoder().encode('{"critical":{"image":{"docker-manifest-digest":1},"identity":"x"},"optional":7}');
    let message = '';
    try {
      parseSimpleSigningPayload(bytes);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('critical.image.docker-manifest-digest: must be a string');
    expect(message).toContain('critical.type: missing');
    expect(message).toContain('critical.identity: must be an object');
    expect(message).toContain('optional: must be an object or null');
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => parseSimpleSigningPayload(new Uint8Array([0x7b, 0xff, 0x7d]))).toThrow(expect.objectContaining({ code: 'PAYLOAD_INVALID' }));
  });
});
