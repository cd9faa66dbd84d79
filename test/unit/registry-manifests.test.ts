import { afterEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { MANIFEST_ACCEPT } from '../../src/constants.js';
import { cleanup, clientFor, fixture, repoAt, serve, sha256, SIGNATURE_MANIFEST, thrown } from './registry-server.js';

const manifest = fixture(SIGNATURE_MANIFEST);
const digest = sha256(manifest);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

afterEach(cleanup);

/** The same real manifest with its config size changed from 233 to 234: what a registry
 * serving tampered content sends. */
function tampered(): Buffer {
  const copy = Buffer.from(manifest);
  copy[copy.indexOf('"size":233') + '"size":23'.length] = '4'.charCodeAt(0);
  return copy;
}

function answer(res: http.ServerResponse, body: Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': body.length, ...headers });
  res.end(body);
}

describe('resolve', () => {
  describe('when HEAD answers with Docker-Content-Digest', () => {
    it('returns the stated descriptor from one HEAD with the index types first in Accept', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest, { 'docker-content-digest': digest }); });
      const got = await clientFor([registry.host]).resolve(repoAt(registry.host), 'v1');

      expect(got).toEqual({ mediaType: OCI_MANIFEST, digest, size: manifest.length });
      expect(registry.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['HEAD /v2/acme/app/manifests/v1']);
      expect(registry.requests[0]!.headers.accept).toBe(MANIFEST_ACCEPT.join(', '));
    });
  });

  describe('when HEAD answers without Docker-Content-Digest', () => {
    it('falls back to GET and hashes the bytes', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest); });
      const got = await clientFor([registry.host]).resolve(repoAt(registry.host), 'v1');

      expect(got.digest).toBe(digest);
      expect(registry.requests.map((r) => r.method)).toEqual(['HEAD', 'GET']);
    });
  });

  describe('when HEAD is not allowed (405)', () => {
    it('falls back to GET', async () => {
      const registry = await serve((req, res) => {
        if (req.method === 'HEAD') {
          res.writeHead(405);
          res.end();
        } else answer(res, manifest, { 'docker-content-digest': digest });
      });
      expect((await clientFor([registry.host]).resolve(repoAt(registry.host), 'v1')).digest).toBe(digest);
    });
  });

  describe('when a digest reference is answered with another digest', () => {
    it('rejects with MANIFEST_DIGEST_MISMATCH', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest, { 'docker-content-digest': sha256(tampered()) }); });
      const err = await thrown(() => clientFor([registry.host]).resolve(repoAt(registry.host), digest));
      expect(err.code).toBe('MANIFEST_DIGEST_MISMATCH');
    });
  });

  describe('when the tag does not exist', () => {
    it('rejects with MANIFEST_UNKNOWN naming the image', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(404);
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host]).resolve(repoAt(registry.host), 'missing'));
      expect(err.code).toBe('MANIFEST_UNKNOWN');
      expect(err.message).toContain(`${registry.host}/acme/app:missing`);
    });
  });
});

describe('getManifest', () => {
  describe('when a tag is answered with a Docker-Content-Digest that does not match the bytes', () => {
    it('returns the digest of the bytes, never the header', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest, { 'docker-content-digest': sha256('something else') }); });
      const got = await clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1');
      expect(got?.digest).toBe(digest);
      expect(Buffer.from(got!.bytes).equals(manifest)).toBe(true);
    });
  });

  describe('when a digest is answered with tampered bytes', () => {
    it('rejects with MANIFEST_DIGEST_MISMATCH', async () => {
      const registry = await serve((_req, res) => { answer(res, tampered(), { 'docker-content-digest': digest }); });
      const err = await thrown(() => clientFor([registry.host]).getManifest(repoAt(registry.host), digest));
      expect(err.code).toBe('MANIFEST_DIGEST_MISMATCH');
      expect(err.message).toContain(registry.host);
    });
  });

  describe('when the manifest does not exist', () => {
    it('returns undefined', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"MANIFEST_UNKNOWN"}]}');
      });
      expect(await clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1')).toBeUndefined();
    });
  });

  describe('when Content-Length is over the cap', () => {
    it('rejects with MANIFEST_TOO_LARGE', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest); });
      const client = clientFor([registry.host], { maxManifestBytes: manifest.length - 1 });
      const err = await thrown(() => client.getManifest(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('MANIFEST_TOO_LARGE');
    });
  });

  describe('when an endless body is streamed without Content-Length', () => {
    it('rejects with MANIFEST_TOO_LARGE and stops reading at the cap', async () => {
      let written = 0;
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const registry = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST });
        const pump = (): void => {
          while (!res.destroyed && written < 256 * 1024 * 1024) {
            written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
        };
        pump();
      });
      const client = clientFor([registry.host], { maxManifestBytes: 1024 * 1024 });

      const err = await thrown(() => client.getManifest(repoAt(registry.host), 'v1'));

      expect(err.code).toBe('MANIFEST_TOO_LARGE');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(written).toBeLessThan(16 * 1024 * 1024); // socket buffers, not the whole stream
    });
  });

  describe('when Content-Type and the document disagree on the media type', () => {
    it('rejects with REGISTRY_RESPONSE_INVALID', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest, { 'content-type': 'application/vnd.oci.image.index.v1+json' }); });
      const err = await thrown(() => clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('REGISTRY_RESPONSE_INVALID');
    });
  });

  describe('when Content-Type is missing or generic', () => {
    it('takes the media type from the document', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest, { 'content-type': 'application/json; charset=utf-8' }); });
      const got = await clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1');
      expect(got?.mediaType).toBe(OCI_MANIFEST);
    });
  });

  describe('when the registry fails with 500', () => {
    it('rejects with REGISTRY_ERROR naming the status', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(500);
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('REGISTRY_ERROR');
      expect(err.message).toContain('500');
      expect(err.message).toContain('acme/app');
    });
  });

  describe('when the reference or repository could escape the URL path', () => {
    it('rejects before any request', async () => {
      const registry = await serve((_req, res) => { answer(res, manifest); });
      const client = clientFor([registry.host]);
      expect((await thrown(() => client.getManifest(repoAt(registry.host), '../../x'))).code).toBe('REFERENCE_INVALID');
      expect((await thrown(() => client.getManifest(repoAt(registry.host, 'acme/../../admin'), 'v1'))).code).toBe('REFERENCE_INVALID');
      expect((await thrown(() => client.getManifest(repoAt(`${registry.host}@evil.example`), 'v1'))).code).toBe('REFERENCE_INVALID');
      expect((await thrown(() => client.getManifest(repoAt(registry.host), `sha512:${'a'.repeat(128)}`))).code).toBe('DIGEST_UNSUPPORTED');
      expect(registry.requests).toHaveLength(0);
    });
  });
});
