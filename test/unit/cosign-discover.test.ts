import { describe, expect, it } from '@jest/globals';
import { discoverLegacySignatures, MAX_PAYLOAD_BYTES, SIGNATURE_LIMITS, signatureTag } from '../../src/cosign/index.js';
import { ANNOTATION, MEDIA_TYPE } from '../../src/constants.js';
import { digestOf } from '../../src/crypto/hash.js';
import { SigwardError } from '../../src/errors.js';
import type { Manifest } from '../../src/registry/types.js';
import type { Repository } from '../../src/reference/types.js';
import { fixtureBytes, fixtureText, MemoryRegistry, readStoredSignature, repository, signatureManifest, type LayerSpec } from './cosign-fixtures.js';

/** The real capture: cosign v3.0.4's `.sig` manifest and its payload. */
const SUBJECT = fixtureText('legacy/tobby-fetch-cosign-v3.0.4/subject-digest.txt').trim();
const REAL_MANIFEST = fixtureBytes('legacy/tobby-fetch-cosign-v3.0.4/signature-manifest.json');
const PAYLOAD = fixtureBytes('legacy/tobby-fetch-cosign-v3.0.4/payload.json');
const SIGNATURE_B64 = fixtureText('legacy/tobby-fetch-cosign-v3.0.4/signature.b64').trim();
const REPO = repository('127.0.0.1:5000/tobby-fetch');
const TAG = signatureTag(SUBJECT);
const WHERE = `${REPO.name}:${TAG}`;

const signedLayer: LayerSpec = { mediaType: MEDIA_TYPE.simpleSigning, payload: PAYLOAD, annotations: { [ANNOTATION.signature]: SIGNATURE_B64 } };

function registryWith(manifest: Uint8Array, mediaType: string = MEDIA_TYPE.ociManifest, repo: Repository = REPO): MemoryRegistry {
  const registry = new MemoryRegistry();
  registry.putManifest(repo, TAG, manifest, mediaType);
  registry.putBlob(PAYLOAD);
  return registry;
}

/** The real manifest with one JSON edit applied, as an attacker with push access could write it. */
function editedManifest(edit: (doc: Record<string, unknown>) => void): Uint8Array {
  const doc = JSON.parse(new TextDecoder().decode(REAL_MANIFEST)) as Record<string, unknown>;
  edit(doc);
  return new TextEncoder().encode(JSON.stringify(doc));
}

async function rejection(promise: Promise<unknown>): Promise<SigwardError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof SigwardError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('signatureTag', () => {
  it('names the tag cosign writes for a digest', () => {
    expect(signatureTag(SUBJECT)).toBe(`sha256-${SUBJECT.slice(7)}.sig`);
    expect(signatureTag(SUBJECT, 'att')).toBe(`sha256-${SUBJECT.slice(7)}.att`);
  });

  it.each([
    ['a sha512 digest', 'DIGEST_UNSUPPORTED', 'sha512:' + 'a'.repeat(128)],
    ['upper-case hex', 'DIGEST_INVALID', 'sha256:' + 'A'.repeat(64)],
    ['a short digest', 'DIGEST_INVALID', 'sha256:abc'],
    ['a tag', 'DIGEST_INVALID', 'latest'],
  ])('rejects %s with %s', (_what, code, digest) => {
    expect(() => signatureTag(digest)).toThrow(expect.objectContaining({ code }));
  });

  it('rejects a suffix that would name another tag', () => {
    expect(() => signatureTag(SUBJECT, 'sig/../x')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

describe('discoverLegacySignatures', () => {
  describe('when the .sig tag holds the real cosign v3.0.4 manifest', () => {
    it('returns its one signature with the payload bytes and decoded signature', async () => {
      const registry = registryWith(REAL_MANIFEST);
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures).toEqual([]);
      expect(found.candidates).toHaveLength(1);
      const candidate = found.candidates[0]!;
      expect(candidate.location).toBe(`${WHERE} layer 0`);
      expect(candidate.format).toBe('legacy');
      expect(candidate.descriptor.digest).toBe(digestOf(PAYLOAD));
      expect(Buffer.from(candidate.payload).equals(Buffer.from(PAYLOAD))).toBe(true);
      expect(Buffer.from(candidate.signature).toString('base64')).toBe(SIGNATURE_B64);
      expect(candidate.annotations[ANNOTATION.signature]).toBe(SIGNATURE_B64);
    });

    it('asks for image manifest types only, at the signature tag', async () => {
      const registry = registryWith(REAL_MANIFEST);
      await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(registry.manifestRequests).toEqual([
        { repo: REPO.name, reference: TAG, accept: [MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest] },
      ]);
    });
  });

  describe('when the signer used Docker media types (COSIGN_DOCKER_MEDIA_TYPES)', () => {
    it('reads the schema2 manifest the same way', async () => {
      const docker = editedManifest((doc) => {
        doc.mediaType = MEDIA_TYPE.dockerManifest;
      });
      const found = await discoverLegacySignatures(registryWith(docker, MEDIA_TYPE.dockerManifest), REPO, SUBJECT);
      expect(found.candidates).toHaveLength(1);
    });
  });

  describe('when no .sig tag exists', () => {
    it('returns no candidates and no failures', async () => {
      const found = await discoverLegacySignatures(new MemoryRegistry(), REPO, SUBJECT);
      expect(found).toEqual({ candidates: [], failures: [] });
    });
  });

  describe('when signatures are stored in another repository (COSIGN_REPOSITORY)', () => {
    it('finds them there and not in the image repository', async () => {
      const signatures = repository('127.0.0.1:5000/signatures');
      const registry = registryWith(REAL_MANIFEST, MEDIA_TYPE.ociManifest, signatures);
      expect((await discoverLegacySignatures(registry, signatures, SUBJECT)).candidates).toHaveLength(1);
      expect((await discoverLegacySignatures(registry, REPO, SUBJECT)).candidates).toHaveLength(0);
    });
  });

  describe('when the manifest has more layers than cosign reads', () => {
    it('rejects 1001 layers with TOO_MANY_SIGNATURES naming the count, fetching nothing', async () => {
      const registry = registryWith(signatureManifest(Array.from({ length: 1001 }, () => signedLayer)));
      const err = await rejection(discoverLegacySignatures(registry, REPO, SUBJECT));
      expect(err.code).toBe('TOO_MANY_SIGNATURES');
      expect(err.message).toContain('1001');
      expect(registry.blobRequests).toEqual([]);
    });

    it('still reads exactly 1000 layers', async () => {
      const unsigned: LayerSpec = { mediaType: MEDIA_TYPE.simpleSigning, payload: PAYLOAD };
      const registry = registryWith(signatureManifest([...Array.from({ length: 999 }, () => unsigned), signedLayer]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures).toHaveLength(999);
      expect(found.candidates.map((c) => c.location)).toEqual([`${WHERE} layer 999`]);
    });
  });

  describe('when a layer declares a 100 MB payload', () => {
    it('fails that layer with PAYLOAD_TOO_LARGE without fetching it, and reads the others', async () => {
      const huge: LayerSpec = { ...signedLayer, payload: new TextEncoder().encode('{"x":1}'), declaredSize: 100 * 1024 * 1024 };
      const registry = registryWith(signatureManifest([huge, signedLayer]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures).toEqual([{ location: `${WHERE} layer 0`, code: 'PAYLOAD_TOO_LARGE', message: expect.stringContaining('104857600') }]);
      expect(found.candidates.map((c) => c.location)).toEqual([`${WHERE} layer 1`]);
      expect(registry.blobRequests).toEqual([digestOf(PAYLOAD)]);
    });

    it('still fetches a payload of exactly the 1 MiB limit', async () => {
      const limit: LayerSpec = { ...signedLayer, payload: new Uint8Array(MAX_PAYLOAD_BYTES).fill(0x20) };
      expect(MAX_PAYLOAD_BYTES).toBe(1024 * 1024);
      const registry = registryWith(signatureManifest([limit]));
      registry.putBlob(limit.payload);
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures).toEqual([]);
      expect(found.candidates[0]!.payload.length).toBe(MAX_PAYLOAD_BYTES);
    });
  });

  describe('when a simple-signing layer has no signature annotation', () => {
    it('fails that layer with SIGNATURE_MISSING and fetches nothing for it', async () => {
      const registry = registryWith(signatureManifest([signedLayer, { mediaType: MEDIA_TYPE.simpleSigning, payload: PAYLOAD }]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures).toEqual([{ location: `${WHERE} layer 1`, code: 'SIGNATURE_MISSING', message: expect.stringContaining(ANNOTATION.signature) }]);
      expect(found.candidates).toHaveLength(1);
      expect(registry.blobRequests).toHaveLength(1);
    });
  });

  describe('when the signature annotation is not standard base64', () => {
    it.each(['MEUC!!!!', 'MEUCIEB-pz4s_9yx', 'MEU'])('fails %s with SIGNATURE_MALFORMED', async (value) => {
      const registry = registryWith(signatureManifest([{ ...signedLayer, annotations: { [ANNOTATION.signature]: value } }]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures.map((f) => f.code)).toEqual(['SIGNATURE_MALFORMED']);
    });

    it('tolerates line breaks inside it, as cosign does', async () => {
      const wrapped = SIGNATURE_B64.slice(0, 40) + '\n' + SIGNATURE_B64.slice(40, 80) + '\r\n' + SIGNATURE_B64.slice(80);
      const registry = registryWith(signatureManifest([{ ...signedLayer, annotations: { [ANNOTATION.signature]: wrapped } }]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(Buffer.from(found.candidates[0]!.signature).toString('base64')).toBe(SIGNATURE_B64);
    });
  });

  describe('when a layer is not a simple-signing payload (the real text/plain attachment)', () => {
    it('skips it: no candidate, no failure, no fetch', async () => {
      const attachment = readStoredSignature('legacy/containers-image/dir-img-cosign-other-attachment/signature-1');
      expect(attachment.mediaType).toBe('text/plain');
      const registry = registryWith(signatureManifest([attachment]));
      registry.putBlob(attachment.payload);
      expect(await discoverLegacySignatures(registry, REPO, SUBJECT)).toEqual({ candidates: [], failures: [] });
      expect(registry.blobRequests).toEqual([]);
    });
  });

  describe('when a layer descriptor is malformed', () => {
    it.each([
      ['a non-sha256 digest', { digest: 'md5:abc' }],
      ['a negative size', { size: -1 }],
      ['a fractional size', { size: 1.5 }],
      ['a numeric annotation', { annotations: { [ANNOTATION.signature]: 5 } }],
      ['no media type', { mediaType: undefined }],
    ])('fails only that layer for %s', async (_what, patch) => {
      const manifest = editedManifest((doc) => {
        const layer = (doc.layers as Record<string, unknown>[])[0]!;
        doc.layers = [{ ...layer, ...patch }, layer];
      });
      const found = await discoverLegacySignatures(registryWith(manifest), REPO, SUBJECT);
      expect(found.failures).toEqual([{ location: `${WHERE} layer 0`, code: 'SIGNATURE_MALFORMED', message: expect.any(String) }]);
      expect(found.candidates.map((c) => c.location)).toEqual([`${WHERE} layer 1`]);
    });
  });

  describe('when the manifest itself is not a signature manifest', () => {
    it.each([
      ['not JSON', new TextEncoder().encode('{"schemaVersion":2,'), MEDIA_TYPE.ociManifest],
      ['schema version 1', editedManifest((doc) => { doc.schemaVersion = 1; }), MEDIA_TYPE.ociManifest],
      ['no layers array', editedManifest((doc) => { doc.layers = {}; }), MEDIA_TYPE.ociManifest],
      ['a JSON array', new TextEncoder().encode('[]'), MEDIA_TYPE.ociManifest],
      ['an index by content type', REAL_MANIFEST, MEDIA_TYPE.ociIndex],
      ['an index by its own mediaType', editedManifest((doc) => { doc.mediaType = MEDIA_TYPE.ociIndex; }), MEDIA_TYPE.ociManifest],
    ])('rejects %s with SIGNATURE_MALFORMED', async (_what, bytes, mediaType) => {
      const err = await rejection(discoverLegacySignatures(registryWith(bytes, mediaType), REPO, SUBJECT));
      expect(err.code).toBe('SIGNATURE_MALFORMED');
      expect(err.message).toContain(WHERE);
    });
  });

  describe('when the registry serves payload bytes the layer does not name', () => {
    it('fails that layer with BLOB_DIGEST_MISMATCH even if the client did not check', async () => {
      const registry = registryWith(REAL_MANIFEST);
      const forged = new Uint8Array(PAYLOAD);
      forged[10] = 0x20;
      registry.getBlob = () => Promise.resolve(forged);
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures.map((f) => f.code)).toEqual(['BLOB_DIGEST_MISMATCH']);
      expect(found.candidates).toEqual([]);
    });

    it('reports the client refusal for that layer', async () => {
      const registry = registryWith(REAL_MANIFEST);
      registry.putBlobAs(digestOf(PAYLOAD), PAYLOAD.slice(1));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.failures.map((f) => f.code)).toEqual(['BLOB_SIZE_MISMATCH']);
    });
  });

  describe('when many signatures are stored', () => {
    /** `count` layers over distinct payloads (each a variant of the real one), all stored. */
    function distinctLayers(registry: MemoryRegistry, count: number, bytes = 0): LayerSpec[] {
      return Array.from({ length: count }, (_, i) => {
        const payload = new TextEncoder().encode(`${new TextDecoder().decode(PAYLOAD)}${' '.repeat(i)}${'x'.repeat(bytes)}`);
        registry.putBlob(payload);
        return { ...signedLayer, payload };
      });
    }

    it('fetches at most 4 payloads at once, in parallel, keeping layer order', async () => {
      const registry = new MemoryRegistry();
      registry.putManifest(REPO, TAG, signatureManifest(distinctLayers(registry, 12)), MEDIA_TYPE.ociManifest);
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.candidates.map((c) => c.location)).toEqual(Array.from({ length: 12 }, (_, i) => `${WHERE} layer ${i}`));
      expect(registry.maxInFlight).toBe(4);
    });

    it('counts identical layers once and fetches a payload named by many layers once', async () => {
      const other = { ...signedLayer, annotations: { [ANNOTATION.signature]: Buffer.from('other').toString('base64') } };
      const registry = registryWith(signatureManifest([...Array.from({ length: 999 }, () => signedLayer), other]));
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.candidates.map((c) => c.location)).toEqual([`${WHERE} layer 0`, `${WHERE} layer 999`]);
      expect(found.candidates[0]!.payload).toBe(found.candidates[1]!.payload);
      expect(registry.blobRequests).toEqual([digestOf(PAYLOAD)]);
    });

    it(`refuses more than ${SIGNATURE_LIMITS.candidates} distinct signatures with TOO_MANY_SIGNATURES, fetching nothing`, async () => {
      const registry = new MemoryRegistry();
      const layers = Array.from({ length: SIGNATURE_LIMITS.candidates + 1 }, (_, i) => ({
        ...signedLayer,
        annotations: { [ANNOTATION.signature]: Buffer.from(`forged ${i}`).toString('base64') },
      }));
      registry.putBlob(PAYLOAD);
      registry.putManifest(REPO, TAG, signatureManifest(layers), MEDIA_TYPE.ociManifest);
      const err = await rejection(discoverLegacySignatures(registry, REPO, SUBJECT));
      expect(err.code).toBe('TOO_MANY_SIGNATURES');
      expect(err.message).toContain(`${SIGNATURE_LIMITS.candidates + 1} distinct signatures`);
      expect(registry.blobRequests).toEqual([]);
    });

    it(`accepts exactly ${SIGNATURE_LIMITS.candidates} distinct signatures`, async () => {
      const registry = new MemoryRegistry();
      registry.putManifest(REPO, TAG, signatureManifest(distinctLayers(registry, SIGNATURE_LIMITS.candidates)), MEDIA_TYPE.ociManifest);
      const found = await discoverLegacySignatures(registry, REPO, SUBJECT);
      expect(found.candidates).toHaveLength(SIGNATURE_LIMITS.candidates);
    });

    it('refuses payloads past the byte budget with SIGNATURES_TOO_LARGE, fetching nothing', async () => {
      const registry = new MemoryRegistry();
      const each = Math.ceil(SIGNATURE_LIMITS.sourceBytes / 5);
      registry.putManifest(REPO, TAG, signatureManifest(distinctLayers(registry, 5, each)), MEDIA_TYPE.ociManifest);
      const err = await rejection(discoverLegacySignatures(registry, REPO, SUBJECT));
      expect(err.code).toBe('SIGNATURES_TOO_LARGE');
      expect(registry.blobRequests).toEqual([]);
    });
  });

  describe('when the registry fails', () => {
    it('propagates a manifest error: an unreachable registry is not "unsigned"', async () => {
      const registry = registryWith(REAL_MANIFEST);
      registry.getManifest = (): Promise<Manifest | undefined> => Promise.reject(new SigwardError('REGISTRY_UNREACHABLE', 'connection refused'));
      expect((await rejection(discoverLegacySignatures(registry, REPO, SUBJECT))).code).toBe('REGISTRY_UNREACHABLE');
    });

    it('propagates a blob error once the request is aborted', async () => {
      const registry = registryWith(REAL_MANIFEST);
      const controller = new AbortController();
      registry.getBlob = (): Promise<Uint8Array> => {
        controller.abort();
        return Promise.reject(new SigwardError('DEADLINE_EXCEEDED', 'aborted'));
      };
      const err = await rejection(discoverLegacySignatures(registry, REPO, SUBJECT, { signal: controller.signal }));
      expect(err.code).toBe('DEADLINE_EXCEEDED');
    });
  });
});
