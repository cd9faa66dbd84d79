import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerConfigPath } from '../../src/config.js';
import { credentialsFromDockerConfigJson, defaultDockerConfigPath, loadDockerConfig } from '../../src/credentials/index.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const SECRET = 's3cret-in-config';
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigward-docker-config-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function thrownBy(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a throw');
}

describe('credentialsFromDockerConfigJson', () => {
  describe('when entries use the forms docker login writes', () => {
    const config = JSON.stringify({
      auths: {
        'https://index.docker.io/v1/': { auth: b64(`hubuser:${SECRET}`) },
        'ghcr.io': { username: 'octo', password: SECRET },
        'http://localhost:5000/v2/': { auth: b64(`local:${SECRET}:with:colons`) },
        'registry.example.com': { auth: b64('ignored:x'), identitytoken: 'refresh-token' },
        'quay.io': {},
      },
      credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    const lookup = credentialsFromDockerConfigJson(config, '/cfg/config.json');

    it('maps Docker Hub URL keys to docker.io', () => {
      expect(lookup('docker.io')).toEqual({ kind: 'basic', username: 'hubuser', password: SECRET, source: '/cfg/config.json' });
      expect(lookup('index.docker.io')).toEqual(lookup('docker.io'));
    });

    it('reads username/password, auth with colons in the password, and host:port keys', () => {
      expect(lookup('ghcr.io')).toMatchObject({ kind: 'basic', username: 'octo', password: SECRET });
      expect(lookup('localhost:5000')).toMatchObject({ username: 'local', password: `${SECRET}:with:colons` });
    });

    it('prefers an identity token', () => {
      expect(lookup('registry.example.com')).toEqual({ kind: 'token', identityToken: 'refresh-token', source: '/cfg/config.json' });
    });

    it('skips empty placeholder entries, and does not run the helpers of a pull Secret', () => {
      expect(lookup('quay.io')).toBeUndefined();
      expect(lookup('gcr.io')).toBeUndefined();
      expect(lookup('localhost:5001')).toBeUndefined();
    });
  });

  describe('when a bare host and a URL form name the same registry', () => {
    it('uses the bare host entry', () => {
      const lookup = credentialsFromDockerConfigJson(JSON.stringify({
        auths: { 'https://ghcr.io/v1/': { auth: b64('url:form') }, 'ghcr.io': { auth: b64('bare:host') } },
      }), 'x');
      expect(lookup('ghcr.io')).toMatchObject({ username: 'bare' });
    });
  });

  describe('when the document is a legacy .dockercfg map (no auths)', () => {
    it('reads the top-level entries', () => {
      const lookup = credentialsFromDockerConfigJson(JSON.stringify({ 'quay.io': { auth: b64('robot:tok'), email: 'x@y' } }), 'secret ns/old');
      expect(lookup('quay.io')).toMatchObject({ username: 'robot', password: 'tok', source: 'secret ns/old' });
    });
  });

  describe('when the JSON is malformed', () => {
    it('rejects with CONFIG_INVALID naming the source, without quoting the text', () => {
      const err = thrownBy(() => credentialsFromDockerConfigJson(`{"auths":{"ghcr.io":{"password":"${SECRET}"`, 'secret ns/pull'));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('secret ns/pull');
      expect(err.message).not.toContain(SECRET);
    });
  });

  describe('when entries are malformed', () => {
    it('reports every problem with its field path and never the value', () => {
      const err = thrownBy(() => credentialsFromDockerConfigJson(JSON.stringify({
        auths: {
          'ghcr.io': { auth: b64(SECRET) },
          'quay.io': { auth: `${SECRET}!!` },
          'docker.io': { username: 'only-user' },
          'not a host': { auth: b64('a:b') },
          'harbor.example': 'text',
        },
      }), '/cfg/config.json'));
      expect(err.code).toBe('CONFIG_INVALID');
      for (const field of ['auths["ghcr.io"].auth', 'auths["quay.io"].auth', 'auths["docker.io"]', 'auths["not a host"]', 'auths["harbor.example"]']) {
        expect(err.message).toContain(field);
      }
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain(b64(SECRET));
    });
  });
});

describe('loadDockerConfig', () => {
  describe('when the file is missing', () => {
    it('provides no credentials', () => {
      expect(loadDockerConfig(path.join(dir, 'absent.json'), { runHelpers: true }).provider('docker.io')).toBeUndefined();
    });
  });

  describe('when the file exists', () => {
    it('reads it, naming the file as the source', () => {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:p') } } }));
      expect(loadDockerConfig(file, { runHelpers: false }).provider('ghcr.io')).toMatchObject({ kind: 'basic', source: file });
    });
  });

  describe('when the path cannot be read as a file', () => {
    it('rejects with CONFIG_INVALID naming the file', () => {
      const err = thrownBy(() => loadDockerConfig(dir, { runHelpers: true }));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain(dir);
    });
  });

  describe('when the file is malformed', () => {
    it('rejects with CONFIG_INVALID naming the file', () => {
      const file = path.join(dir, 'broken.json');
      fs.writeFileSync(file, '{"auths": ');
      const err = thrownBy(() => loadDockerConfig(file, { runHelpers: true }));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain(file);
    });
  });
});

describe('defaultDockerConfigPath', () => {
  it('uses $DOCKER_CONFIG/config.json when set, else ~/.docker/config.json', () => {
    expect(defaultDockerConfigPath({ DOCKER_CONFIG: '/etc/docker-cfg', HOME: '/home/u' })).toBe('/etc/docker-cfg/config.json');
    expect(defaultDockerConfigPath({ HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
    expect(defaultDockerConfigPath({ DOCKER_CONFIG: '', HOME: '/home/u' })).toBe('/home/u/.docker/config.json');
  });
});

describe('dockerConfigPath (the commands\' reader)', () => {
  it('treats an empty DOCKER_CONFIG as unset instead of reading ./config.json', () => {
    expect(dockerConfigPath(undefined, { DOCKER_CONFIG: '', HOME: '/home/u' })).toEqual({ path: '/home/u/.docker/config.json', explicit: false });
    expect(dockerConfigPath(undefined, { DOCKER_CONFIG: '/etc/d', HOME: '/home/u' })).toEqual({ path: '/etc/d/config.json', explicit: false });
    expect(dockerConfigPath('/x/c.json', { DOCKER_CONFIG: '/etc/d' })).toEqual({ path: '/x/c.json', explicit: true });
  });
});

describe('docker credential helpers (credHelpers, credsStore)', () => {
  const HELPER_SECRET = 'helper-secret-value';
  let bin: string;
  let calls: string;
  let savedPath: string | undefined;

  /** Writes `docker-credential-<name>`: a shell script that logs its stdin, then runs `body`. */
  function helper(name: string, body: string): void {
    const file = path.join(bin, `docker-credential-${name}`);
    fs.writeFileSync(file, `#!/bin/sh\nread server\necho "${name} $1 $server" >> "${calls}"\n${body}\n`, { mode: 0o755 });
  }

  function config(doc: object): string {
    const file = path.join(dir, `helpers-${Math.random().toString(16).slice(2)}.json`);
    fs.writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  beforeAll(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sigward-helpers-'));
    calls = path.join(bin, 'calls.log');
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}:${savedPath ?? ''}`;
    helper('store', `if [ "$server" = "https://index.docker.io/v1/" ]; then echo '{"ServerURL":"x","Username":"<token>","Secret":"hub-refresh"}'; exit 0; fi\necho "credentials not found in native keychain"; exit 1`);
    helper('private', `echo '{"ServerURL":"'$server'","Username":"robot","Secret":"${HELPER_SECRET}"}'`);
    helper('broken', `echo "${HELPER_SECRET} leaked in an error"; exit 3`);
    helper('garbled', `echo "not json ${HELPER_SECRET}"`);
    helper('slow', 'sleep 30');
  });
  afterAll(() => {
    process.env.PATH = savedPath;
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('runs the registry\'s helper with `get` and the host on stdin, and uses its answer', async () => {
    const file = config({ credHelpers: { '127.0.0.1:5000': 'private' }, auths: { 'quay.io': { auth: b64('file:entry') } } });
    const { provider, unusedHelpers } = loadDockerConfig(file, { runHelpers: true });
    expect(unusedHelpers).toEqual([]);
    await expect(Promise.resolve(provider('127.0.0.1:5000'))).resolves.toEqual({ kind: 'basic', username: 'robot', password: HELPER_SECRET, source: 'credential helper docker-credential-private' });
    expect(fs.readFileSync(calls, 'utf8')).toContain('private get 127.0.0.1:5000');
    // A registry no helper covers keeps the file's own entry, without running anything.
    await expect(Promise.resolve(provider('quay.io'))).resolves.toMatchObject({ username: 'file' });
  });

  it('asks the credsStore for Docker Hub by its index URL and reads `<token>` as an identity token', async () => {
    const { provider } = loadDockerConfig(config({ credsStore: 'store' }), { runHelpers: true });
    await expect(Promise.resolve(provider('docker.io'))).resolves.toEqual({ kind: 'token', identityToken: 'hub-refresh', source: 'credential helper docker-credential-store' });
  });

  it('treats "credentials not found" as no credential and falls back to the file entry', async () => {
    const { provider } = loadDockerConfig(config({ credsStore: 'store', auths: { 'ghcr.io': { auth: b64('octo:pat') } } }), { runHelpers: true });
    await expect(Promise.resolve(provider('ghcr.io'))).resolves.toMatchObject({ username: 'octo', password: 'pat' });
    await expect(Promise.resolve(provider('registry.example'))).resolves.toBeUndefined();
  });

  it.each([
    ['broken', 'exit status 3'],
    ['garbled', 'its answer is not JSON'],
    ['absent', 'not found on PATH'],
  ])('fails with CREDENTIALS_UNAVAILABLE naming helper %s and the registry, never its output', async (name, why) => {
    const { provider } = loadDockerConfig(config({ credHelpers: { 'harbor.example': name } }), { runHelpers: true });
    const err = await Promise.resolve(provider('harbor.example')).then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as Error & { code?: string });
    expect(err.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(err.message).toBe(`credential helper docker-credential-${name} for registry harbor.example: ${why}`);
    expect(err.message).not.toContain(HELPER_SECRET);
  });

  it('gives up waiting when the caller\'s signal fires', async () => {
    const { provider } = loadDockerConfig(config({ credHelpers: { 'slow.example': 'slow' } }), { runHelpers: true });
    const started = Date.now();
    await expect(Promise.resolve(provider('slow.example', { repository: 'app', signal: AbortSignal.timeout(200) }))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('refuses a helper name that is not a plain name, with the field path', () => {
    const err = thrownBy(() => loadDockerConfig(config({ credHelpers: { 'ghcr.io': '../../bin/sh' }, credsStore: 'a b' }), { runHelpers: true }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('credHelpers["ghcr.io"]');
    expect(err.message).toContain('credsStore');
  });

  it('runs nothing without runHelpers, and says which registries the helpers would cover', async () => {
    fs.writeFileSync(calls, '');
    const { provider, unusedHelpers } = loadDockerConfig(config({ credHelpers: { 'gcr.io': 'private' }, credsStore: 'store' }), { runHelpers: false });
    expect(unusedHelpers).toEqual(['gcr.io', '*']);
    await expect(Promise.resolve(provider('gcr.io'))).resolves.toBeUndefined();
    expect(fs.readFileSync(calls, 'utf8')).toBe('');
  });
});
