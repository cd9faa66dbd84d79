import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeReview } from '../../src/admission/decode.js';
import { extractImages } from '../../src/admission/extract.js';
import { parseSimpleSigningPayload } from '../../src/cosign/payload.js';
import { parseSignatureManifest } from '../../src/cosign/manifest.js';
import { digestOf } from '../../src/crypto/hash.js';
import { SigwardError } from '../../src/errors.js';
import { parseBundle } from '../../src/sigstore/index.js';
import { fixtureBytes } from './cosign-fixtures.js';

// Property tests over everything sigward parses from outside: whatever the input, a parser
// either returns a value or throws a SigwardError with a code. Anything else (a TypeError from
// reading a field of undefined, a RangeError) is a crash an attacker could aim for.
const RUNS = { numRuns: 400, seed: 20261127 };
const encoder = new TextEncoder();

function onlySigwardErrors(parse: () => unknown): void {
  try {
    parse();
  } catch (err) {
    if (!(err instanceof SigwardError)) throw err;
  }
}

/** Mutates one value somewhere in a JSON document: the real artifact, slightly wrong. */
function mutateJson(doc: unknown, path: readonly number[], replacement: unknown): unknown {
  if (path.length === 0 || doc === null || typeof doc !== 'object') return replacement;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [String(i), v] as const) : Object.entries(doc);
  if (entries.length === 0) return replacement;
  const [head, ...rest] = path;
  const index = (head ?? 0) % entries.length;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(doc) ? [...doc] : { ...(doc as Record<string, unknown>) };
  const key = entries[index]![0];
  (copy as Record<string, unknown>)[key] = mutateJson(entries[index]![1], rest, replacement);
  return copy;
}

const anyJson = fc.jsonValue({ maxDepth: 4 });

describe('parsers under fuzzing', () => {
  describe('the AdmissionReview decoder and image extraction', () => {
    const review = {
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: {
        uid: 'u', operation: 'CREATE', namespace: 'ns',
        kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
        object: { spec: { containers: [{ name: 'a', image: 'quay.io/a/b:1' }], initContainers: [{ name: 'i', image: 'x' }] } },
      },
    };

    it('never crashes on arbitrary JSON', () => {
      fc.assert(fc.property(anyJson, (body) => {
        onlySigwardErrors(() => extractImages(decodeReview(body).request));
      }), RUNS);
    });

    it('never crashes on a real review with one value replaced, and yields only string images', () => {
      fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 8 }), anyJson, (path, value) => {
        const body = mutateJson(review, path, value);
        onlySigwardErrors(() => {
          const images = extractImages(decodeReview(body).request);
          // Whatever survives decoding is a string image at a named path.
          for (const use of images) expect(typeof use.image).toBe('string');
        });
      }), RUNS);
    });
  });

  describe('the simple-signing payload parser', () => {
    const payload = fixtureBytes('legacy/containers-image/extracted/valid.signature-1.payload.json');

    it('never crashes on arbitrary bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlySigwardErrors(() => parseSimpleSigningPayload(bytes));
      }), RUNS);
    });

    it('never accepts a payload without a string digest claim', () => {
      const doc = JSON.parse(new TextDecoder().decode(payload)) as unknown;
      fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 4 }), anyJson, (path, value) => {
        const mutated = mutateJson(doc, path, value);
        let parsed;
        try {
          parsed = parseSimpleSigningPayload(encoder.encode(JSON.stringify(mutated)));
        } catch (err) {
          expect(err).toBeInstanceOf(SigwardError);
          return;
        }
        expect(typeof parsed.critical.image['docker-manifest-digest']).toBe('string');
      }), RUNS);
    });
  });

  describe('the signature manifest parser', () => {
    it('never crashes on arbitrary JSON served as an OCI manifest', () => {
      fc.assert(fc.property(anyJson, (doc) => {
        const bytes = encoder.encode(JSON.stringify(doc));
        onlySigwardErrors(() => parseSignatureManifest({ digest: digestOf(bytes), mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes }, 'fuzz'));
      }), RUNS);
    });
  });

  describe('the sigstore bundle parser', () => {
    const bundle = JSON.parse(new TextDecoder().decode(fixtureBytes('bundles/tobby-fetch-cosign-v3.0.4-key/bundle-sigstore.json'))) as unknown;

    it('never crashes on arbitrary bytes', () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlySigwardErrors(() => parseBundle(bytes));
      }), RUNS);
    });

    it('never crashes on the real cosign v3 bundle with one value replaced', () => {
      fc.assert(fc.property(fc.array(fc.nat(), { maxLength: 6 }), anyJson, (path, value) => {
        onlySigwardErrors(() => parseBundle(encoder.encode(JSON.stringify(mutateJson(bundle, path, value)))));
      }), RUNS);
    });
  });
});
