import { describe, expect, it } from '@jest/globals';
import { constants, generateKeyPairSync, sign, X509Certificate, type KeyObject } from 'node:crypto';
import { ed25519ph } from '@noble/curves/ed25519.js';
import { parsePublicKey } from '../../src/crypto/keys.js';
import { digestOf, sha256Hex } from '../../src/crypto/hash.js';
import { verifySignature } from '../../src/crypto/verify.js';
import type { PublicKey } from '../../src/crypto/types.js';
import { isSigwardError } from '../../src/errors.js';
import { fixtureBytes, fixtureText, legacyCases, type FixtureCase } from './cosign-fixtures.js';

const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const MESSAGE = new TextEncoder().encode('{"critical":{"type":"cosign container image signature"},"optional":null}');

function keyOf(pem: string): PublicKey {
  return parsePublicKey(pem);
}

function publicPem(key: KeyObject): string {
  return key.export({ type: 'spki', format: 'pem' }).toString();
}

function signatureOf(c: FixtureCase): Uint8Array {
  return new Uint8Array(Buffer.from(fixtureText(c.signatureB64!).replace(/\s/g, ''), 'base64'));
}

/** The key a case's signature is checked with: its public key, else its leaf certificate's key. */
function caseKey(c: FixtureCase): PublicKey {
  if (c.publicKey) return keyOf(fixtureText(c.publicKey));
  const certificate = c.certificate
    ? fixtureText(c.certificate)
    : (JSON.parse(fixtureText(c.annotations!)) as { annotations: Record<string, string> }).annotations['dev.sigstore.cosign/certificate']!;
  return keyOf(publicPem(new X509Certificate(certificate).publicKey));
}

/** The message a case's signature is checked over, with the mutations cases.json describes. */
function caseMessage(c: FixtureCase): Uint8Array {
  if (c.id === 'rs-busybox-wrong-msg') return new TextEncoder().encode('hello world');
  const payload = fixtureText(c.payload!);
  if (c.id === 'ci-valid-tampered') return new TextEncoder().encode(payload.replace('"optional":null', '"optional":{}'));
  return new TextEncoder().encode(payload);
}

/** `sig=true|false` as recorded by the independent node check of each case. */
function recordedSignatureResult(c: FixtureCase): boolean {
  const match = /\bsig=(true|false)\b/.exec(c.nodeChecks);
  if (!match) throw new Error(`${c.id}: no sig= result recorded`);
  return match[1] === 'true';
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` for short-form lengths (P-256). */
function derDecode(der: Uint8Array): { r: bigint; s: bigint } {
  const hex = Buffer.from(der).toString('hex');
  const rLen = der[3]!;
  const r = BigInt('0x' + hex.slice(8, 8 + rLen * 2));
  const s = BigInt('0x' + hex.slice(8 + rLen * 2 + 4));
  return { r, s };
}

function derEncode(r: bigint, s: bigint): Uint8Array {
  const int = (n: bigint): Buffer => {
    let hex = n.toString(16);
    if (hex.length % 2) hex = '0' + hex;
    if (parseInt(hex.slice(0, 2), 16) & 0x80) hex = '00' + hex;
    return Buffer.concat([Buffer.from([0x02, hex.length / 2]), Buffer.from(hex, 'hex')]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return new Uint8Array(Buffer.concat([Buffer.from([0x30, body.length]), body]));
}

function raw32(n: bigint): Buffer {
  return Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
}

describe('verifySignature', () => {
  describe('over every recorded legacy signature', () => {
    const cases = legacyCases();

    it('has cases to check', () => {
      expect(cases.length).toBeGreaterThanOrEqual(20);
    });

    it.each(cases.map((c) => [c.id, c] as const))('%s: gives the recorded result', (_id, c) => {
      const expected = recordedSignatureResult(c);
      if (c.expect === 'pass') expect(expected).toBe(true);
      expect(verifySignature(caseKey(c), caseMessage(c), signatureOf(c))).toBe(expected);
    });
  });

  describe('when a real P-256 signature is re-encoded', () => {
    const c = legacyCases().find((x) => x.id === 'ci-valid')!;
    const key = caseKey(c);
    const message = caseMessage(c);
    const { r, s } = derDecode(signatureOf(c));

    it('accepts both the low-S and the high-S form, as Go produces either', () => {
      const low = s > P256_ORDER / 2n ? P256_ORDER - s : s;
      expect(verifySignature(key, message, derEncode(r, low))).toBe(true);
      expect(verifySignature(key, message, derEncode(r, P256_ORDER - low))).toBe(true);
    });

    it('accepts raw IEEE-P1363 r‖s', () => {
      expect(verifySignature(key, message, new Uint8Array(Buffer.concat([raw32(r), raw32(s)])))).toBe(true);
    });

    it('rejects raw r‖s of the wrong length', () => {
      expect(verifySignature(key, message, new Uint8Array(Buffer.concat([raw32(r), raw32(s), Buffer.from([0])])))).toBe(false);
    });
  });

  describe('when one byte of a real payload or signature changes', () => {
    const c = legacyCases().find((x) => x.id === 'tf-cosign-v3.0.4-legacy')!;
    const key = caseKey(c);
    const message = caseMessage(c);
    const signature = signatureOf(c);

    it('the untouched pair verifies', () => {
      expect(verifySignature(key, message, signature)).toBe(true);
    });

    it.each([0, 1, 100, message.length - 1])('rejects payload byte %i flipped', (index) => {
      const mutated = message.slice();
      mutated[index] = mutated[index]! ^ 0x01;
      expect(verifySignature(key, mutated, signature)).toBe(false);
    });

    it('rejects every single-byte change of the signature', () => {
      for (let index = 0; index < signature.length; index++) {
        const mutated = signature.slice();
        mutated[index] = mutated[index]! ^ 0x01;
        expect(verifySignature(key, message, mutated)).toBe(false);
      }
    });

    it('rejects empty and oversized signatures without throwing', () => {
      expect(verifySignature(key, message, new Uint8Array())).toBe(false);
      expect(verifySignature(key, message, new Uint8Array(100_000).fill(0x30))).toBe(false);
    });
  });

  describe('with keys generated here', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    const p521 = generateKeyPairSync('ec', { namedCurve: 'secp521r1' });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const ed = generateKeyPairSync('ed25519');

    const pairs = { 'P-384': p384, 'P-521': p521 };

    it.each([
      ['P-384', 'sha256', true],
      ['P-384', 'sha384', true],
      ['P-384', 'sha512', false],
      ['P-521', 'sha256', true],
      ['P-521', 'sha512', true],
      ['P-521', 'sha384', false],
    ] as const)('%s signing over %s verifies: %s', (curve, hash, expected) => {
      const pair = pairs[curve];
      const key = keyOf(publicPem(pair.publicKey));
      expect(verifySignature(key, MESSAGE, sign(hash, MESSAGE, pair.privateKey))).toBe(expected);
    });

    it('P-256 accepts SHA-256 only, as cosign verify hashes', () => {
      const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const key = keyOf(publicPem(pair.publicKey));
      expect(verifySignature(key, MESSAGE, sign('sha256', MESSAGE, pair.privateKey))).toBe(true);
      expect(verifySignature(key, MESSAGE, sign('sha384', MESSAGE, pair.privateKey))).toBe(false);
    });

    it('RSA accepts PKCS#1 v1.5 over SHA-256 only', () => {
      const key = keyOf(publicPem(rsa.publicKey));
      const pkcs1 = (hash: string) => sign(hash, MESSAGE, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PADDING });
      expect(verifySignature(key, MESSAGE, pkcs1('sha256'))).toBe(true);
      expect(verifySignature(key, MESSAGE, pkcs1('sha512'))).toBe(false);
      const pss = sign('sha256', MESSAGE, { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING });
      expect(verifySignature(key, MESSAGE, pss)).toBe(false);
      const tampered = MESSAGE.slice();
      tampered[3] = 0x41;
      expect(verifySignature(key, tampered, pkcs1('sha256'))).toBe(false);
    });

    it('Ed25519 accepts a pure signature and rejects it over other bytes', () => {
      const key = keyOf(publicPem(ed.publicKey));
      const signature = sign(null, MESSAGE, ed.privateKey);
      expect(verifySignature(key, MESSAGE, signature)).toBe(true);
      expect(verifySignature(key, MESSAGE.slice(1), signature)).toBe(false);
    });

    it('Ed25519 accepts an Ed25519ph signature, the form cosign signs images with', () => {
      const secret = ed25519ph.utils.randomSecretKey();
      const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), ed25519ph.getPublicKey(secret)]);
      const key = keyOf(`-----BEGIN PUBLIC KEY-----\n${spki.toString('base64')}\n-----END PUBLIC KEY-----\n`);
      const signature = ed25519ph.sign(MESSAGE, secret);
      expect(verifySignature(key, MESSAGE, signature)).toBe(true);
      expect(verifySignature(key, MESSAGE.slice(1), signature)).toBe(false);
    });

    it('rejects a signature made with a key of another type', () => {
      const ecPair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const signatures = {
        ec: sign('sha256', MESSAGE, ecPair.privateKey),
        rsa: sign('sha256', MESSAGE, rsa.privateKey),
        ed: sign(null, MESSAGE, ed.privateKey),
        p384: sign('sha384', MESSAGE, p384.privateKey),
      };
      const keys = {
        ec: keyOf(publicPem(ecPair.publicKey)),
        rsa: keyOf(publicPem(rsa.publicKey)),
        ed: keyOf(publicPem(ed.publicKey)),
        p384: keyOf(publicPem(p384.publicKey)),
      };
      for (const [keyType, key] of Object.entries(keys)) {
        for (const [sigType, signature] of Object.entries(signatures)) {
          expect([keyType, sigType, verifySignature(key, MESSAGE, signature)]).toEqual([keyType, sigType, keyType === sigType]);
        }
      }
    });
  });

  describe('when the key itself cannot be used', () => {
    const rsaKey = keyOf(publicPem(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey));

    it('throws KEY_INVALID for an SPKI that is not DER', () => {
      const broken: PublicKey = { algorithm: 'ecdsa-p256', spki: new Uint8Array([1, 2, 3]), id: 'broken' };
      expect(() => verifySignature(broken, MESSAGE, new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'KEY_INVALID' }));
    });

    it('throws KEY_INVALID for an SPKI of another algorithm than the key claims', () => {
      const mislabelled: PublicKey = { ...rsaKey, algorithm: 'ecdsa-p256' };
      const thrown = (() => {
        try {
          verifySignature(mislabelled, MESSAGE, new Uint8Array(64));
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(isSigwardError(thrown, 'KEY_INVALID')).toBe(true);
    });

    it('throws KEY_UNSUPPORTED for an RSA key shorter than 2048 bits built without parsePublicKey', () => {
      const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
      const spki = new Uint8Array(short.export({ type: 'spki', format: 'der' }));
      const key: PublicKey = { algorithm: 'rsa', spki, id: 'short' };
      expect(() => verifySignature(key, MESSAGE, new Uint8Array(128))).toThrow(expect.objectContaining({ code: 'KEY_UNSUPPORTED' }));
    });

    it('throws KEY_UNSUPPORTED for an algorithm it does not know', () => {
      const unknown = { ...rsaKey, algorithm: 'dsa' } as unknown as PublicKey;
      expect(() => verifySignature(unknown, MESSAGE, new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'KEY_UNSUPPORTED' }));
    });
  });
});

describe('digest helpers', () => {
  it('sha256Hex matches the digest recorded for a real cosign payload', () => {
    const payload = fixtureBytes('legacy/tobby-fetch-cosign-v3.0.4/payload.json');
    expect(payload.length).toBe(245);
    expect(sha256Hex(payload)).toBe('3a29d26a2fc848d25ccf9c2288194ca90599e70ef69087644f186e5e7331f28b');
  });

  it('digestOf names bytes as registries do', () => {
    const manifest = fixtureBytes('legacy/containers-image/dir-img-cosign-valid/manifest.json');
    expect(digestOf(manifest)).toBe('sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00');
    expect(digestOf(new Uint8Array())).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
