import { describe, expect, it } from '@jest/globals';
import { isSigwardError, type ErrorCode } from '../../src/errors.js';
import { parseBundle, parseTrustedRoot } from '../../src/sigstore/index.js';
import { fixtureBytes, fixtureText } from './cosign-fixtures.js';

const KEY_BUNDLE = 'bundles/tobby-fetch-cosign-v3.0.4-key/bundle-sigstore.json';
const KEYLESS_BUNDLE = 'bundles/cosign-oci-attestation-keyless/oci-attestation.sigstore.json';
const CONFORMANCE = 'bundles/sigstore-conformance';
const ROOTS = [
  'bundles/trusted-roots/sigstore-go-testing-public-good.json',
  'bundles/trusted-roots/sigstore-go-examples-trusted-root-public-good.json',
  'bundles/cosign-oci-attestation-keyless/trusted_root_pgi.json',
  `${CONFORMANCE}/rekor2-happy-path/trusted_root.json`,
  `${CONFORMANCE}/intoto-with-custom-trust-root/trusted_root.json`,
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- real fixtures, mutated in place as loose JSON
type Json = Record<string, any>;

function json(path: string): Json {
  return JSON.parse(fixtureText(path)) as Json;
}

function bytes(doc: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(doc));
}

/** The code and message a parse throws, so a test checks both the reason and the field path. */
function failure(run: () => unknown): { code: ErrorCode | 'NONE'; message: string } {
  try {
    run();
    return { code: 'NONE', message: '' };
  } catch (err) {
    if (!isSigwardError(err)) throw err;
    return { code: err.code, message: err.message };
  }
}

describe('parseBundle', () => {
  describe('when given the cosign v3.0.4 key bundle', () => {
    it('reads its DSSE envelope, key hint, log entry and timestamp', () => {
      const bundle = parseBundle(fixtureBytes(KEY_BUNDLE));
      expect(bundle.version).toBe('0.3');
      expect(bundle.content.kind).toBe('dsse');
      expect(bundle.material).toEqual({ kind: 'publicKey', hint: '98n9we7FWgY2iBPaTrUAKorkXZduZLcsRIaF6c81jQc=' });
      const [entry] = bundle.tlogEntries;
      expect(entry).toMatchObject({ logIndex: 2440595631n, kind: 'dsse', version: '0.0.1', integratedTime: 1786568008n });
      expect(entry?.inclusionProof?.hashes).toHaveLength(16);
      expect(entry?.inclusionProof?.checkpoint).toMatch(/^rekor\.sigstore\.dev - /);
      expect(bundle.rfc3161Timestamps).toHaveLength(1);
    });
  });

  describe('when given a Rekor v2 bundle', () => {
    it('reads an entry without an integrated time', () => {
      const bundle = parseBundle(fixtureBytes(`${CONFORMANCE}/rekor2-happy-path/bundle.sigstore.json`));
      expect(bundle.tlogEntries[0]?.integratedTime).toBeUndefined();
      expect(bundle.tlogEntries[0]?.signedEntryTimestamp).toBeUndefined();
    });
  });

  describe('when the v0.3 media type is spelled the older way', () => {
    it('accepts it', () => {
      expect(parseBundle(fixtureBytes(`${CONFORMANCE}/happy-path-v0.3/bundle.sigstore.json`)).mediaType)
        .toBe('application/vnd.dev.sigstore.bundle+json;version=0.3');
    });
  });

  describe('when a bundle older than v0.3 comes from a registry', () => {
    const path = `${CONFORMANCE}/set-invalid-signature_fail/bundle.sigstore.json`;

    it('rejects with BUNDLE_UNSUPPORTED, as cosign does', () => {
      expect(failure(() => parseBundle(fixtureBytes(path))).code).toBe('BUNDLE_UNSUPPORTED');
    });

    it('accepts it when older versions are allowed', () => {
      expect(parseBundle(fixtureBytes(path), { minVersion: '0.1' }).version).toBe('0.1');
    });
  });

  describe('when the media type names a version sigward does not know', () => {
    it('rejects with BUNDLE_UNSUPPORTED', () => {
      const doc = json(KEY_BUNDLE);
      doc.mediaType = 'application/vnd.dev.sigstore.bundle.v0.4+json';
      expect(failure(() => parseBundle(bytes(doc))).code).toBe('BUNDLE_UNSUPPORTED');
    });
  });

  describe('when the bytes are not a JSON object', () => {
    it.each([['not JSON', 'bundle'], ['not UTF-8', '\uFFFF'], ['an array', '[]']])('rejects %s with BUNDLE_INVALID', (_what, text) => {
      const input = text === '\uFFFF' ? Uint8Array.of(0x7b, 0xff, 0x7d) : new TextEncoder().encode(text);
      expect(failure(() => parseBundle(input)).code).toBe('BUNDLE_INVALID');
    });
  });

  describe('when the bundle is larger than 1 MiB', () => {
    it('rejects with BUNDLE_INVALID before parsing', () => {
      expect(failure(() => parseBundle(new Uint8Array(1024 * 1024 + 1))).message).toMatch(/1048577 bytes/);
    });
  });

  describe('when a signature is not base64', () => {
    it('rejects with BUNDLE_INVALID naming the field', () => {
      const doc = json(KEY_BUNDLE);
      doc.dsseEnvelope.signatures[0].sig = 'INVALID!!!BASE64!!!ENCODING====';
      const { code, message } = failure(() => parseBundle(bytes(doc)));
      expect(code).toBe('BUNDLE_INVALID');
      expect(message).toContain('dsseEnvelope.signatures[0].sig: not base64');
    });
  });

  describe('when several fields are wrong', () => {
    it('reports every one with its path', () => {
      const doc = json(KEY_BUNDLE);
      const entry = doc.verificationMaterial.tlogEntries[0];
      entry.logIndex = '-1';
      delete entry.inclusionProof.checkpoint;
      entry.canonicalizedBody = 42;
      const { message } = failure(() => parseBundle(bytes(doc)));
      expect(message).toContain('verificationMaterial.tlogEntries[0].logIndex: must be a non-negative 64-bit integer');
      expect(message).toContain('verificationMaterial.tlogEntries[0].canonicalizedBody: must be non-empty base64');
      expect(message).toContain('verificationMaterial.tlogEntries[0].inclusionProof.checkpoint: required');
    });
  });

  describe('when a v0.3 entry has an inclusion proof without a checkpoint', () => {
    it('rejects with BUNDLE_INVALID', () => {
      const doc = json(KEY_BUNDLE);
      delete doc.verificationMaterial.tlogEntries[0].inclusionProof.checkpoint;
      expect(failure(() => parseBundle(bytes(doc))).message).toContain('tlogEntries[0].inclusionProof.checkpoint: required');
    });
  });

  describe('when the bundle carries both a message signature and an envelope', () => {
    it('rejects with BUNDLE_INVALID', () => {
      const doc = json(KEY_BUNDLE);
      doc.messageSignature = json(`${CONFORMANCE}/happy-path-v0.3/bundle.sigstore.json`).messageSignature;
      expect(failure(() => parseBundle(bytes(doc))).message).toContain('exactly one of messageSignature and dsseEnvelope');
    });
  });

  describe('when the envelope carries two signatures', () => {
    it('rejects with BUNDLE_INVALID', () => {
      const doc = json(KEY_BUNDLE);
      doc.dsseEnvelope.signatures.push(doc.dsseEnvelope.signatures[0]);
      expect(failure(() => parseBundle(bytes(doc))).message).toContain('dsseEnvelope.signatures: must hold exactly one signature');
    });
  });

  describe('when a v0.3 bundle carries a certificate chain', () => {
    it('rejects with BUNDLE_INVALID', () => {
      const doc = json(KEYLESS_BUNDLE);
      doc.verificationMaterial.x509CertificateChain = { certificates: [doc.verificationMaterial.certificate] };
      delete doc.verificationMaterial.certificate;
      expect(failure(() => parseBundle(bytes(doc))).message).toContain('x509CertificateChain: not allowed in a v0.3 bundle');
    });
  });
});

describe('parseTrustedRoot', () => {
  describe.each(ROOTS)('when given %s', (path) => {
    it('reads its Rekor logs', () => {
      expect(parseTrustedRoot(fixtureText(path)).tlogs.length).toBeGreaterThan(0);
    });
  });

  describe('when given a Rekor v2 root', () => {
    it('keeps each log ID, which for Rekor v2 is not the hash of the key', () => {
      const root = parseTrustedRoot(fixtureText(`${CONFORMANCE}/rekor2-dsse-happy-path/trusted_root.json`));
      const log = root.tlogs.find((candidate) => candidate.baseUrl === 'https://log2025-alpha3.rekor.sigstage.dev');
      expect(Buffer.from(log!.logId).toString('base64')).toBe('09OnDKEw7/hpZiYVPoTRzRbglHk0sylsUovegnRUlJY=');
      expect(log!.key.algorithm).toBe('ed25519');
    });
  });

  describe('when the text is not JSON', () => {
    it('rejects with TRUSTED_ROOT_INVALID', () => {
      expect(failure(() => parseTrustedRoot('{')).code).toBe('TRUSTED_ROOT_INVALID');
    });
  });

  describe('when several entries are broken', () => {
    it('reports every one with its path', () => {
      const doc = json(ROOTS[0]!);
      doc.mediaType = 'application/json';
      doc.tlogs[0].publicKey.rawBytes = Buffer.from('not a key').toString('base64');
      doc.certificateAuthorities[1].certChain.certificates[0].rawBytes = 'AAAA';
      doc.timestampAuthorities[0].validFor.start = 'yesterday';
      const { code, message } = failure(() => parseTrustedRoot(JSON.stringify(doc)));
      expect(code).toBe('TRUSTED_ROOT_INVALID');
      expect(message).toContain('mediaType: application/json is not a trusted root media type');
      expect(message).toContain('tlogs[0].publicKey.rawBytes: not a PEM public key');
      expect(message).toContain('certificateAuthorities[1].certChain.certificates[0].rawBytes: not a DER X.509 certificate');
      expect(message).toContain('timestampAuthorities[0].validFor.start: must be an RFC 3339 time');
    });
  });
});
