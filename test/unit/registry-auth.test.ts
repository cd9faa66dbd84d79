import { afterEach, describe, expect, it } from '@jest/globals';
import type http from 'node:http';
import { SigwardError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import type { Credential, CredentialProvider } from '../../src/registry/index.js';
import { publicOnlyLookup } from '../../src/registry/realm.js';
import {
  cleanup, clientFor, fixture, repoAt, serve, sha256, SIGNATURE_MANIFEST, thrown, type ScriptedServer,
} from './registry-server.js';

const manifest = fixture(SIGNATURE_MANIFEST);
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const PASSWORD = 'pa55-w0rd-never-printed';
const ISSUED = 'issued-token-never-printed';

afterEach(cleanup);

function sendManifest(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': manifest.length, 'docker-content-digest': sha256(manifest) });
  res.end(manifest);
}

/** A registry that wants `Bearer <token>` and points at `realm`. */
function bearerRegistry(realm: () => string, token = ISSUED): Promise<ScriptedServer> {
  return serve((req, res) => {
    if (req.headers.authorization === `Bearer ${token}`) {
      sendManifest(res);
      return;
    }
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="${realm()}",service="registry.test",scope="repository:acme/app:pull"`,
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED"}]}');
  });
}

/** A token endpoint issuing ISSUED to whoever `accepts` lets through. */
function tokenServer(accepts: (req: http.IncomingMessage, body: string) => boolean = () => true): Promise<ScriptedServer> {
  return serve((req, res, seen) => {
    if (!accepts(req, seen.body)) {
      res.writeHead(401);
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: ISSUED, expires_in: 300 }));
  });
}

const basic = (username: string, password: string, source: string): Credential => ({ kind: 'basic', username, password, source });
const only = (registry: string, credential: Credential): CredentialProvider => (host) => (host === registry ? credential : undefined);
const basicHeader = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('registry token flow', () => {
  describe('when the registry challenges an anonymous client with Bearer', () => {
    it('fetches an anonymous token for pull scope of the repository and retries with it', async () => {
      const auth = await tokenServer();
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host]);

      const got = await client.getManifest(repoAt(registry.host), 'latest');

      expect(got?.digest).toBe(sha256(manifest));
      expect(auth.requests).toHaveLength(1);
      const asked = new URL(auth.requests[0]!.url, 'http://x');
      expect(asked.pathname).toBe('/token');
      expect(asked.searchParams.get('service')).toBe('registry.test');
      expect(asked.searchParams.getAll('scope')).toEqual(['repository:acme/app:pull']);
      expect(auth.requests[0]!.headers.authorization).toBeUndefined();
    });
  });

  describe('when the client holds Basic credentials for the registry', () => {
    it('sends them as Basic to the token endpoint only', async () => {
      const auth = await tokenServer((req) => req.headers.authorization === basicHeader('alice', PASSWORD));
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host], { credentials: only(registry.host, basic('alice', PASSWORD, '/cfg/config.json')) });

      await client.getManifest(repoAt(registry.host), 'latest');

      expect(auth.requests[0]!.headers.authorization).toBe(basicHeader('alice', PASSWORD));
      expect(registry.requests.map((r) => r.headers.authorization)).toEqual([undefined, `Bearer ${ISSUED}`]);
    });
  });

  describe('when the credential is an identity token', () => {
    it('exchanges it by the OAuth2 refresh_token grant (POST)', async () => {
      const auth = await tokenServer((req, body) => req.method === 'POST' && new URLSearchParams(body).get('refresh_token') === 'refresh-me');
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const credential: Credential = { kind: 'token', identityToken: 'refresh-me', source: 'secret ns/pull' };
      const client = clientFor([registry.host, auth.host], { credentials: only(registry.host, credential) });

      await client.getManifest(repoAt(registry.host), 'latest');

      const form = new URLSearchParams(auth.requests[0]!.body);
      expect(form.get('grant_type')).toBe('refresh_token');
      expect(form.get('scope')).toBe('repository:acme/app:pull');
      expect(form.get('service')).toBe('registry.test');
    });
  });

  describe('when the registry sends a Basic challenge', () => {
    it('answers with Basic credentials directly', async () => {
      const registry = await serve((req, res) => {
        if (req.headers.authorization === basicHeader('bob', PASSWORD)) sendManifest(res);
        else {
          res.writeHead(401, { 'www-authenticate': 'Basic realm="htpasswd"' });
          res.end();
        }
      });
      const client = clientFor([registry.host], { credentials: only(registry.host, basic('bob', PASSWORD, 'config')) });

      const got = await client.resolve(repoAt(registry.host), 'v1');

      expect(got.digest).toBe(sha256(manifest));
      expect(registry.requests.at(-1)!.headers.authorization).toBe(basicHeader('bob', PASSWORD));
    });
  });

  describe('when one header carries a Basic and a Bearer challenge', () => {
    it('takes the Bearer token flow', async () => {
      const auth = await tokenServer();
      const registry = await serve((req, res) => {
        if (req.headers.authorization === `Bearer ${ISSUED}`) sendManifest(res);
        else {
          res.writeHead(401, { 'www-authenticate': `Basic realm="quay", Bearer realm="http://${auth.host}/v2/auth",service="quay"` });
          res.end();
        }
      });
      const client = clientFor([registry.host, auth.host]);

      await client.getManifest(repoAt(registry.host), 'latest');

      expect(auth.requests).toHaveLength(1);
    });
  });

  describe('when several calls need the same repository', () => {
    it('reuses the cached token and scopes a new one per repository', async () => {
      const auth = await tokenServer();
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host]);

      await client.getManifest(repoAt(registry.host), 'latest');
      await client.getManifest(repoAt(registry.host), 'v2');
      await client.resolve(repoAt(registry.host), 'v3');
      expect(auth.requests).toHaveLength(1);
      expect(registry.requests).toHaveLength(4); // one 401, then three authorized

      await client.getManifest(repoAt(registry.host, 'acme/other'), 'latest');
      expect(auth.requests).toHaveLength(2);
      expect(new URL(auth.requests[1]!.url, 'http://x').searchParams.get('scope')).toBe('repository:acme/other:pull');
      expect(registry.requests).toHaveLength(5); // the known challenge saved the 401 round trip
    });
  });

  describe('when many calls need a token at the same time', () => {
    it('sends one token request for all of them', async () => {
      const auth = await tokenServer();
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host]);
      await client.getManifest(repoAt(registry.host, 'acme/warmup'), 'latest'); // learns the challenge

      await Promise.all(Array.from({ length: 6 }, (_, i) => client.getManifest(repoAt(registry.host), `v${i}`)));

      expect(auth.requests).toHaveLength(2); // warm-up repository, then one shared request
    });
  });

  describe('when per-call credentials are given', () => {
    it('tries them before the client\'s own, then falls back', async () => {
      const auth = await tokenServer((req) => req.headers.authorization === basicHeader('own', PASSWORD));
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host], { credentials: only(registry.host, basic('own', PASSWORD, 'client config')) });

      await client.getManifest(repoAt(registry.host), 'latest', { credentials: only(registry.host, basic('pod', 'wrong', 'secret ns/pull')) });

      expect(auth.requests.map((r) => r.headers.authorization)).toEqual([basicHeader('pod', 'wrong'), basicHeader('own', PASSWORD)]);
    });
  });

  describe('when a credential source cannot answer (a helper or plugin that failed)', () => {
    const failing: CredentialProvider = (host) => Promise.reject(new SigwardError('CREDENTIALS_UNAVAILABLE', `credential helper docker-credential-x for registry ${host}: exit status 1`));

    it('goes on with the next source, with the repository and signal in the query', async () => {
      const auth = await tokenServer((req) => req.headers.authorization === basicHeader('own', PASSWORD));
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const queries: unknown[] = [];
      const recording: CredentialProvider = (host, query) => {
        queries.push(query?.repository);
        return host === registry.host ? basic('own', PASSWORD, 'config') : undefined;
      };
      const client = clientFor([registry.host, auth.host], { credentials: [failing, recording] });

      const got = await client.getManifest(repoAt(registry.host), 'latest');

      expect(got?.digest).toBe(sha256(manifest));
      expect(queries[0]).toBe('acme/app');
    });

    it('names it first in REGISTRY_AUTH when nothing else opens the registry', async () => {
      const auth = await tokenServer(() => false);
      const registry = await bearerRegistry(() => `http://${auth.host}/token`);
      const client = clientFor([registry.host, auth.host], { credentials: failing });

      const err = await thrown(() => client.getManifest(repoAt(registry.host), 'latest'));

      expect(err.code).toBe('REGISTRY_AUTH');
      expect(err.message).toContain(`(repository acme/app): credential helper docker-credential-x for registry ${registry.host}: exit status 1; then registry ${registry.host} refused authentication (tried: anonymous)`);
    });

    it('lets any other failure of a source through', async () => {
      const registry = await bearerRegistry(() => 'http://127.0.0.1:9/token');
      const client = clientFor([registry.host], { credentials: () => Promise.reject(new Error('a bug')) });
      await expect(client.getManifest(repoAt(registry.host), 'latest')).rejects.toThrow('a bug');
    });
  });

  describe('when the registry answers 401 whatever token it gets', () => {
    it('rejects with REGISTRY_AUTH naming the host and the credential source, after one retry per credential', async () => {
      const auth = await tokenServer();
      const registry = await bearerRegistry(() => `http://${auth.host}/token`, 'a token this registry never accepts');
      const client = clientFor([registry.host, auth.host], { credentials: only(registry.host, basic('carol', PASSWORD, '/home/carol/.docker/config.json')) });

      const err = await thrown(() => client.getManifest(repoAt(registry.host), 'latest'));

      expect(err.code).toBe('REGISTRY_AUTH');
      expect(err.message).toContain(registry.host);
      expect(err.message).toContain('acme/app');
      expect(err.message).toContain('/home/carol/.docker/config.json');
      expect(registry.requests).toHaveLength(2);
    });

    it('names anonymous when no credential was configured', async () => {
      const auth = await tokenServer();
      const registry = await bearerRegistry(() => `http://${auth.host}/token`, 'never');
      const err = await thrown(() => clientFor([registry.host, auth.host]).resolve(repoAt(registry.host), 'latest'));
      expect(err.code).toBe('REGISTRY_AUTH');
      expect(err.message).toContain('tried: anonymous');
    });
  });

  describe('when the registry answers 403', () => {
    it('rejects with REGISTRY_DENIED', async () => {
      const registry = await serve((_req, res) => {
        res.writeHead(403);
        res.end();
      });
      const err = await thrown(() => clientFor([registry.host]).getManifest(repoAt(registry.host), 'latest'));
      expect(err.code).toBe('REGISTRY_DENIED');
      expect(err.message).toContain(registry.host);
    });
  });
});

describe('token realm check (SSRF guard)', () => {
  const realms = [
    ['a cloud metadata address', 'http://169.254.169.254/latest/meta-data/token'],
    ['a private network address', 'http://10.0.0.7/token'],
    ['another loopback host than the registry', 'http://[::1]:1234/token'],
    ['a localhost name for a registry reached by IP', 'http://localhost:1234/token'],
    ['a non-HTTP scheme', 'file:///etc/passwd'],
  ] as const;

  for (const [name, realm] of realms) {
    describe(`when the realm is ${name}`, () => {
      it('rejects with REGISTRY_AUTH before sending anything there', async () => {
        const registry = await bearerRegistry(() => realm);
        const client = clientFor([registry.host], { credentials: only(registry.host, basic('dave', PASSWORD, 'config')) });

        const err = await thrown(() => client.getManifest(repoAt(registry.host), 'latest'));

        expect(err.code).toBe('REGISTRY_AUTH');
        expect(err.message).toContain('refusing token realm');
        expect(registry.requests).toHaveLength(1);
      });
    });
  }
});

describe('token realm on a host name that resolves to a private address', () => {
  /** A resolver for tests: the names given, nothing else. */
  const resolving = (table: Record<string, string>) => (hostname: string) =>
    table[hostname] === undefined ? Promise.reject(new Error(`ENOTFOUND ${hostname}`)) : Promise.resolve([{ address: table[hostname], family: 4 }]);

  it('refuses to connect there, sending it neither credentials nor anything else', async () => {
    const auth = await tokenServer();
    const port = auth.host.split(':')[1]!;
    const registry = await bearerRegistry(() => `http://internal-auth.example:${port}/token`);
    const client = clientFor([registry.host, `internal-auth.example:${port}`], {
      credentials: only(registry.host, basic('dave', PASSWORD, 'config')),
      resolveHost: resolving({ 'internal-auth.example': '127.0.0.1' }),
    });
    const err = await thrown(() => client.getManifest(repoAt(registry.host), 'latest'));
    expect(err.code).toBe('REGISTRY_AUTH');
    expect(err.message).toContain('token realm host internal-auth.example resolves to 127.0.0.1, not a public address');
    expect(auth.requests).toHaveLength(0);
  });

  it('reaches the same token server when the realm is on the registry\'s own host (the positive control)', async () => {
    const auth = await tokenServer();
    const registry = await bearerRegistry(() => `http://${auth.host}/token`);
    const client = clientFor([registry.host, auth.host], { resolveHost: resolving({}) });
    await client.getManifest(repoAt(registry.host), 'latest');
    expect(auth.requests).toHaveLength(1);
  });
});

describe('publicOnlyLookup', () => {
  const lookup = (addresses: { address: string; family: number }[], all = false) =>
    new Promise<{ err: Error | null; address: unknown }>((resolve) => {
      publicOnlyLookup(() => Promise.resolve(addresses))('realm.example', { all }, (err, address) => { resolve({ err, address }); });
    });

  it('hands the socket the public address it checked', async () => {
    expect(await lookup([{ address: '203.0.113.9', family: 4 }])).toEqual({ err: null, address: '203.0.113.9' });
    expect((await lookup([{ address: '2001:db8::1', family: 6 }], true)).address).toEqual([{ address: '2001:db8::1', family: 6 }]);
  });

  it.each(['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', 'fe80::1', '::ffff:192.168.1.1', '100.64.0.1'])(
    'refuses a name that resolves to %s, even beside a public address',
    async (internal) => {
      const { err } = await lookup([{ address: '203.0.113.9', family: 4 }, { address: internal, family: internal.includes(':') ? 6 : 4 }]);
      expect(err?.message).toContain(`resolves to ${internal}`);
    },
  );
});

describe('secrets in messages', () => {
  describe('when authentication fails in every way', () => {
    it('never prints a password, token or Basic header in errors or log lines', async () => {
      const messages: string[] = [];
      const lines: string[] = [];
      const log = createLogger({ level: 'debug', write: (line) => lines.push(line) });
      const auth = await tokenServer();
      const looping = await bearerRegistry(() => `http://${auth.host}/token`, 'unacceptable');
      const ssrf = await bearerRegistry(() => 'http://192.168.0.1/token');
      const refusingAuth = await tokenServer(() => false);
      const refusing = await bearerRegistry(() => `http://${refusingAuth.host}/token`);
      const credentials: CredentialProvider = () => basic('erin', PASSWORD, '/etc/sigward/docker.json');
      const identity: CredentialProvider = () => ({ kind: 'token', identityToken: ISSUED, source: 'secret ns/pull' });
      const client = clientFor([looping.host, ssrf.host, refusing.host, auth.host, refusingAuth.host], { credentials });

      for (const [host, perCall] of [[looping.host, undefined], [ssrf.host, identity], [refusing.host, identity]] as const) {
        const err = await thrown(() => client.getManifest(repoAt(host), 'latest', perCall === undefined ? {} : { credentials: perCall }));
        messages.push(err.message);
        log.error('registry call failed', { err, registry: host });
      }

      const everything = [...messages, ...lines].join('\n');
      expect(messages).toHaveLength(3);
      for (const secret of [PASSWORD, ISSUED, Buffer.from(`erin:${PASSWORD}`).toString('base64')]) {
        expect(everything).not.toContain(secret);
      }
    });
  });
});
