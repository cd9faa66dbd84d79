import { afterEach, describe, expect, it } from '@jest/globals';
import type { Credential, Descriptor } from '../../src/registry/index.js';
import {
  cleanup, clientFor, fixture, repoAt, serve, sha256, SIGNATURE_MANIFEST, SIGNATURE_PAYLOAD, thrown,
} from './registry-server.js';

const payload = fixture(SIGNATURE_PAYLOAD);
/** The payload's descriptor exactly as the real signature manifest states it. */
const descriptor = (JSON.parse(fixture(SIGNATURE_MANIFEST).toString()) as { layers: Descriptor[] }).layers[0]!;
const credential: Credential = { kind: 'basic', username: 'frank', password: 'blob-secret', source: 'config' };
const BASIC = `Basic ${Buffer.from('frank:blob-secret').toString('base64')}`;

afterEach(cleanup);

function blobServer(body: Buffer) {
  return serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
}

describe('getBlob', () => {
  describe('when the registry sends the bytes the descriptor names', () => {
    it('returns them', async () => {
      expect(sha256(payload)).toBe(descriptor.digest);
      const registry = await blobServer(payload);
      const got = await clientFor([registry.host]).getBlob(repoAt(registry.host), descriptor);
      expect(Buffer.from(got).equals(payload)).toBe(true);
      expect(registry.requests[0]!.url).toBe(`/v2/acme/app/blobs/${descriptor.digest}`);
    });
  });

  describe('when the bytes do not match the digest', () => {
    it('rejects with BLOB_DIGEST_MISMATCH', async () => {
      const forged = Buffer.from(payload.toString().replace('sha256:f20c', 'sha256:f20d'));
      expect(forged.length).toBe(payload.length);
      const registry = await blobServer(forged);
      const err = await thrown(() => clientFor([registry.host]).getBlob(repoAt(registry.host), descriptor));
      expect(err.code).toBe('BLOB_DIGEST_MISMATCH');
      expect(err.message).toContain(registry.host);
    });
  });

  describe('when the registry sends fewer or more bytes than the descriptor says', () => {
    it('rejects with BLOB_SIZE_MISMATCH', async () => {
      for (const body of [payload.subarray(0, payload.length - 1), Buffer.concat([payload, Buffer.from('\n')])]) {
        const registry = await blobServer(body);
        const err = await thrown(() => clientFor([registry.host]).getBlob(repoAt(registry.host), descriptor));
        expect(err.code).toBe('BLOB_SIZE_MISMATCH');
      }
    });
  });

  describe('when the descriptor states a size over the cap', () => {
    it('rejects with BLOB_TOO_LARGE before any request', async () => {
      const registry = await blobServer(payload);
      const client = clientFor([registry.host]);
      const err = await thrown(() => client.getBlob(repoAt(registry.host), descriptor, { maxBytes: descriptor.size - 1 }));
      expect(err.code).toBe('BLOB_TOO_LARGE');
      const huge = { ...descriptor, size: 17 * 1024 * 1024 };
      expect((await thrown(() => client.getBlob(repoAt(registry.host), huge, { maxBytes: 1e12 }))).code).toBe('BLOB_TOO_LARGE');
      expect(registry.requests).toHaveLength(0);
    });
  });

  describe('when the registry redirects to storage on another host', () => {
    it('follows without the Authorization header', async () => {
      const storage = await blobServer(payload);
      const registry = await serve((req, res) => {
        if (req.headers.authorization !== BASIC) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
          res.end();
          return;
        }
        res.writeHead(307, { location: `http://${storage.host}/store/blob?sig=abc` });
        res.end();
      });
      const client = clientFor([registry.host, storage.host], { credentials: () => credential });

      const got = await client.getBlob(repoAt(registry.host), descriptor);

      expect(Buffer.from(got).equals(payload)).toBe(true);
      expect(storage.requests).toHaveLength(1);
      expect(storage.requests[0]!.url).toBe('/store/blob?sig=abc');
      expect(storage.requests[0]!.headers.authorization).toBeUndefined();
    });
  });

  describe('when the registry redirects on its own host', () => {
    it('keeps the Authorization header', async () => {
      const registry = await serve((req, res) => {
        if (req.headers.authorization !== BASIC) {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' });
          res.end();
        } else if (req.url?.startsWith('/v2/')) {
          res.writeHead(302, { location: '/local-storage/x' });
          res.end();
        } else {
          res.writeHead(200, { 'content-length': payload.length });
          res.end(payload);
        }
      });
      const client = clientFor([registry.host], { credentials: () => credential });
      await client.getBlob(repoAt(registry.host), descriptor);
      expect(registry.requests.at(-1)!.headers.authorization).toBe(BASIC);
    });
  });

  describe('when a redirect would downgrade to plain HTTP on a host not listed as insecure', () => {
    it('rejects without following it', async () => {
      const storage = await blobServer(payload);
      const registry = await serve((_req, res) => {
        res.writeHead(307, { location: `http://${storage.host}/blob` });
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host]).getBlob(repoAt(registry.host), descriptor));
      expect(err.code).toBe('REGISTRY_ERROR');
      expect(storage.requests).toHaveLength(0);
    });
  });

  describe('when the blob does not exist', () => {
    it('rejects with REGISTRY_ERROR naming 404', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(404);
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host]).getBlob(repoAt(registry.host), descriptor));
      expect(err.code).toBe('REGISTRY_ERROR');
      expect(err.message).toContain('404');
    });
  });
});
