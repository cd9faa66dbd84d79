import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import net from 'node:net';
import { RegistryClient } from '../../src/registry/index.js';
import {
  cleanup, clientFor, fixture, repoAt, selfSignedCertificate, serve, sha256, SIGNATURE_MANIFEST, thrown,
} from './registry-server.js';

const manifest = fixture(SIGNATURE_MANIFEST);
let tls: { key: string; cert: string };

beforeAll(() => {
  tls = selfSignedCertificate();
});
afterEach(cleanup);

function sendManifest(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'application/vnd.oci.image.manifest.v1+json',
    'content-length': manifest.length,
    'docker-content-digest': sha256(manifest),
  });
  res.end(manifest);
}

describe('HTTPS registries', () => {
  describe('when the registry certificate is signed by an extra CA', () => {
    it('verifies it with the CA added to the public roots', async () => {
      const registry = await serve(sendManifest, tls);
      const client = clientFor([], { caCertificates: [tls.cert] });
      const got = await client.resolve(repoAt(registry.host), 'v1');
      expect(got.digest).toBe(sha256(manifest));
      expect(registry.requests).toHaveLength(1);
    });
  });

  describe('when the certificate is not trusted', () => {
    it('rejects with REGISTRY_TLS', async () => {
      const registry = await serve(sendManifest, tls);
      const err = await thrown(() => clientFor([]).resolve(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('REGISTRY_TLS');
      expect(err.message).toContain(registry.host);
      expect(registry.requests).toHaveLength(0);
    });
  });

  describe('when a plain HTTP registry is not listed in insecureRegistries', () => {
    it('speaks HTTPS to it and fails with REGISTRY_TLS, never sending a plain request', async () => {
      const registry = await serve(sendManifest);
      const err = await thrown(() => clientFor([]).resolve(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('REGISTRY_TLS');
      expect(registry.requests).toHaveLength(0);
    });

    it('fails with REGISTRY_TLS when the server answers the handshake with an HTTP 400', async () => {
      const seen: string[] = [];
      const server = net.createServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', (data) => {
          seen.push(data.subarray(0, 4).toString('latin1'));
          socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
      try {
        const err = await thrown(() => clientFor([]).resolve(repoAt(host), 'v1'));
        expect(err.code).toBe('REGISTRY_TLS');
        expect(seen).toHaveLength(1);
        expect(seen[0]).not.toBe('HEAD'); // a TLS ClientHello, not a plain request
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });

  describe('when an HTTPS registry points at a plain HTTP token realm', () => {
    it('rejects with REGISTRY_AUTH without contacting the realm', async () => {
      const auth = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"token":"t"}');
      });
      const registry = await serve((_req, res) => {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${auth.host}/token",service="s"` });
        res.end();
      }, tls);
      const client = clientFor([], { caCertificates: [tls.cert] });

      const err = await thrown(() => client.getManifest(repoAt(registry.host), 'v1'));

      expect(err.code).toBe('REGISTRY_AUTH');
      expect(err.message).toContain('plain HTTP realm');
      expect(auth.requests).toHaveLength(0);
    });
  });
});

describe('client options', () => {
  describe('when an option is malformed', () => {
    it('rejects with CONFIG_INVALID naming every bad field', () => {
      let err: unknown;
      try {
        new RegistryClient({
          caCertificates: ['not a certificate'],
          insecureRegistries: ['http://registry.local:5000/'],
          requestTimeoutMs: 0,
          maxConcurrentPerHost: 1.5,
        });
      } catch (caught) {
        err = caught;
      }
      expect(err).toMatchObject({ code: 'CONFIG_INVALID' });
      const message = (err as Error).message;
      for (const field of ['caCertificates[0]', 'insecureRegistries[0]', 'requestTimeoutMs', 'maxConcurrentPerHost']) {
        expect(message).toContain(field);
      }
    });
  });
});
