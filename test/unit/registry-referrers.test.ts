import { afterEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { cleanup, clientFor, fixture, REFERRERS_INDEX, repoAt, serve, thrown } from './registry-server.js';

const index = fixture(REFERRERS_INDEX);
const subject = fixture('legacy/tobby-fetch-cosign-v3.0.4/subject-digest.txt').toString().trim();
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

afterEach(cleanup);

function reply(status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}) {
  return serve((_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  });
}

/** The real index with its first descriptor changed by `mutate`. */
function mutatedIndex(mutate: (descriptor: Record<string, unknown>) => void): string {
  const doc = JSON.parse(index.toString()) as { manifests: Record<string, unknown>[] };
  mutate(doc.manifests[0]!);
  return JSON.stringify(doc);
}

describe('getReferrers', () => {
  describe('when the registry has the referrers API', () => {
    it('returns the narrowed descriptors, asking for an OCI index', async () => {
      const registry = await reply(200, index, { 'content-type': OCI_INDEX });
      const got = await clientFor([registry.host]).getReferrers(repoAt(registry.host), subject);

      expect(got).toEqual([{
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        digest: 'sha256:aa34dbe1db5336a0a85e4cc7eced2f5dc91f0062322972fe29c4002372a7adff',
        size: 875,
        artifactType: 'application/vnd.oci.empty.v1+json',
      }]);
      expect(registry.requests[0]!.url).toBe(`/v2/acme/app/referrers/${subject}`);
      expect(registry.requests[0]!.headers.accept).toBe(OCI_INDEX);
    });
  });

  describe('when the registry has no referrers API (distribution 2.8 answers 404)', () => {
    it('returns undefined', async () => {
      const registry = await reply(404, '404 page not found', { 'content-type': 'text/plain' });
      expect(await clientFor([registry.host]).getReferrers(repoAt(registry.host), subject)).toBeUndefined();
    });
  });

  describe('when a 200 carries no Content-Type but the body is an index', () => {
    it('accepts it by shape', async () => {
      const registry = await serve((_req, res) => {
        res.removeHeader('content-type');
        res.writeHead(200);
        res.end(index);
      });
      const got = await clientFor([registry.host]).getReferrers(repoAt(registry.host), subject);
      expect(got).toHaveLength(1);
    });
  });

  describe('when a 200 is not an image index', () => {
    it('returns undefined for an HTML page or other JSON', async () => {
      for (const [body, type] of [['<html>ok</html>', 'text/html'], ['{"repositories":[]}', 'application/json']] as const) {
        const registry = await reply(200, body, { 'content-type': type });
        expect(await clientFor([registry.host]).getReferrers(repoAt(registry.host), subject)).toBeUndefined();
      }
    });
  });

  describe('when a descriptor in the index is malformed', () => {
    const cases: [string, (d: Record<string, unknown>) => void, string][] = [
      ['a digest that is not a digest', (d) => { d.digest = 'sha256:../../etc'; }, 'manifests[0].digest'],
      ['a negative size', (d) => { d.size = -1; }, 'manifests[0].size'],
      ['a fractional size', (d) => { d.size = 1.5; }, 'manifests[0].size'],
      ['a non-string annotation', (d) => { d.annotations = { 'dev.sigstore.bundle.content': 7 }; }, 'manifests[0].annotations'],
    ];
    for (const [name, mutate, path] of cases) {
      it(`rejects ${name} with REGISTRY_RESPONSE_INVALID naming ${path}`, async () => {
        const registry = await reply(200, mutatedIndex(mutate), { 'content-type': OCI_INDEX });
        const err = await thrown(() => clientFor([registry.host]).getReferrers(repoAt(registry.host), subject));
        expect(err.code).toBe('REGISTRY_RESPONSE_INVALID');
        expect(err.message).toContain(path);
      });
    }
  });

  describe('when the answer is paginated with Link', () => {
    it('follows rel="next" on the same host', async () => {
      const second = mutatedIndex((d) => { d.digest = `sha256:${'b'.repeat(64)}`; });
      const registry = await serve((req, res) => {
        const last = req.url?.includes('page=2') === true;
        res.writeHead(200, { 'content-type': OCI_INDEX, ...(last ? {} : { link: `</v2/acme/app/referrers/${subject}?page=2>; rel="next"` }) });
        res.end(last ? second : index);
      });
      const got = await clientFor([registry.host]).getReferrers(repoAt(registry.host), subject);
      expect(got?.map((d) => d.digest.slice(0, 12))).toEqual(['sha256:aa34d', 'sha256:bbbbb']);
    });
  });

  describe('when the subject is not a sha256 digest', () => {
    it('rejects with DIGEST_INVALID before any request', async () => {
      const registry = await reply(200, index);
      const err = await thrown(() => clientFor([registry.host]).getReferrers(repoAt(registry.host), 'latest'));
      expect(err.code).toBe('DIGEST_INVALID');
      expect(registry.requests).toHaveLength(0);
    });
  });
});
