import { afterEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import type { RegistryEvent } from '../../src/registry/index.js';
import { cleanup, clientFor, fixture, repoAt, serve, sha256, SIGNATURE_MANIFEST, thrown } from './registry-server.js';

const manifest = fixture(SIGNATURE_MANIFEST);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

afterEach(cleanup);

function sendManifest(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length, 'docker-content-digest': sha256(manifest) });
  res.end(manifest);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}

describe('request deadlines', () => {
  describe('when the server accepts the connection and never answers', () => {
    it('rejects with REGISTRY_TIMEOUT within the timeout', async () => {
      const events: RegistryEvent[] = [];
      const registry = await serve(() => undefined);
      const client = clientFor([registry.host], { requestTimeoutMs: 300, onRequest: (e) => events.push(e) });

      const { result: err, ms } = await timed(() => thrown(() => client.getManifest(repoAt(registry.host), 'v1')));

      expect(err.code).toBe('REGISTRY_TIMEOUT');
      expect(err.message).toContain(registry.host);
      expect(err.message).toContain('acme/app');
      expect(ms).toBeLessThan(1500);
      expect(events).toEqual([{ registry: registry.host, operation: 'manifest', status: 'timeout', seconds: expect.any(Number) }]);
      expect(events[0]!.seconds).toBeGreaterThanOrEqual(0.29);
    });
  });

  describe('when the server trickles the body a byte at a time', () => {
    it('rejects with REGISTRY_TIMEOUT: the deadline covers the body too', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length });
        let at = 0;
        const timer = setInterval(() => {
          if (res.destroyed || at >= manifest.length) clearInterval(timer);
          else res.write(manifest.subarray(at, ++at));
        }, 50);
        res.on('close', () => { clearInterval(timer); });
      });
      const client = clientFor([registry.host], { requestTimeoutMs: 400 });

      const { result: err, ms } = await timed(() => thrown(() => client.getManifest(repoAt(registry.host), 'v1')));

      expect(err.code).toBe('REGISTRY_TIMEOUT');
      expect(ms).toBeLessThan(1500);
    });
  });

  describe("when the caller's signal fires first", () => {
    it('rejects with DEADLINE_EXCEEDED promptly', async () => {
      const registry = await serve(() => undefined);
      const client = clientFor([registry.host], { requestTimeoutMs: 5000 });

      const { result: err, ms } = await timed(() =>
        thrown(() => client.resolve(repoAt(registry.host), 'v1', { signal: AbortSignal.timeout(200) })),
      );

      expect(err.code).toBe('DEADLINE_EXCEEDED');
      expect(ms).toBeLessThan(1000);
    });

    it('stops waiting out a Retry-After', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(503, { 'retry-after': '2' });
        res.end();
      });
      const client = clientFor([registry.host]);

      const { result: err, ms } = await timed(() =>
        thrown(() => client.getManifest(repoAt(registry.host), 'v1', { signal: AbortSignal.timeout(200) })),
      );

      expect(err.code).toBe('DEADLINE_EXCEEDED');
      expect(ms).toBeLessThan(1000);
      expect(registry.requests).toHaveLength(1);
    });
  });
});

describe('unreachable registries', () => {
  describe('when nothing listens on the port', () => {
    it('rejects with REGISTRY_UNREACHABLE without retrying', async () => {
      const closed = await serve(() => undefined);
      await closed.close();
      const events: RegistryEvent[] = [];
      const client = clientFor([closed.host], { onRequest: (e) => events.push(e) });

      const err = await thrown(() => client.resolve(repoAt(closed.host), 'v1'));

      expect(err.code).toBe('REGISTRY_UNREACHABLE');
      expect(err.message).toContain(closed.host);
      expect(events).toEqual([{ registry: closed.host, operation: 'resolve', status: 'error', seconds: expect.any(Number) }]);
    });
  });
});

describe('retries', () => {
  describe('when the registry answers 503 with Retry-After: 1, then 200', () => {
    it('waits the time asked and succeeds', async () => {
      const events: string[] = [];
      let calls = 0;
      const registry = await serve((_req, res) => {
        if (calls++ === 0) {
          res.writeHead(503, { 'retry-after': '1' });
          res.end();
        } else sendManifest(res);
      });
      const client = clientFor([registry.host], { onRequest: (e) => events.push(e.status) });

      const { result, ms } = await timed(() => client.getManifest(repoAt(registry.host), 'v1'));

      expect(result?.digest).toBe(sha256(manifest));
      expect(ms).toBeGreaterThanOrEqual(950);
      expect(events).toEqual(['503', '200']);
    });
  });

  describe('when Retry-After asks for longer than sigward waits', () => {
    it('fails at once with REGISTRY_ERROR naming the status', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(503, { 'retry-after': new Date(Date.now() + 120_000).toUTCString() });
        res.end();
      });
      const { result: err, ms } = await timed(() => thrown(() => clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1')));
      expect(err.code).toBe('REGISTRY_ERROR');
      expect(err.message).toContain('503');
      expect(ms).toBeLessThan(1000);
      expect(registry.requests).toHaveLength(1);
    });
  });

  describe('when the registry keeps answering 429', () => {
    it('gives up after maxRetries with REGISTRY_RATE_LIMITED', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(429, { 'retry-after': '0' });
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host], { maxRetries: 2 }).getManifest(repoAt(registry.host), 'v1'));
      expect(err.code).toBe('REGISTRY_RATE_LIMITED');
      expect(registry.requests).toHaveLength(3);
    });
  });

  describe('when the first connection is reset', () => {
    it('retries and succeeds', async () => {
      let calls = 0;
      const registry = await serve((req, res) => {
        if (calls++ === 0) req.socket.destroy();
        else sendManifest(res);
      });
      const got = await clientFor([registry.host]).getManifest(repoAt(registry.host), 'v1');
      expect(got?.digest).toBe(sha256(manifest));
      expect(registry.requests).toHaveLength(2);
    });
  });
});

describe('per-host concurrency', () => {
  describe('when more calls run at once than maxConcurrentPerHost', () => {
    it('never has more requests in flight at the server than the cap', async () => {
      let inFlight = 0;
      let peak = 0;
      const registry = await serve((_req, res) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        setTimeout(() => {
          inFlight--;
          sendManifest(res);
        }, 60);
      });
      const client = clientFor([registry.host], { maxConcurrentPerHost: 3 });

      const all = await Promise.all(Array.from({ length: 10 }, (_, i) => client.getManifest(repoAt(registry.host), `v${i}`)));

      expect(all.every((m) => m?.digest === sha256(manifest))).toBe(true);
      expect(peak).toBe(3);
    });
  });
});
