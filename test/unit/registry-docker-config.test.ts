import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dockerConfigPath } from '../../src/config.js';
import { credentialsFromDockerConfigJson, defaultDockerConfigPath, loadDockerConfig } from '../../src/registry/index.js';

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

    it('skips empty placeholder entries and credential helpers (not supported)', () => {
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
      expect(loadDockerConfig(path.join(dir, 'absent.json'))('docker.io')).toBeUndefined();
    });
  });

  describe('when the file exists', () => {
    it('reads it, naming the file as the source', () => {
      const file = path.join(dir, 'config.json');
      fs.writeFileSync(file, JSON.stringify({ auths: { 'ghcr.io': { auth: b64('u:p') } } }));
      expect(loadDockerConfig(file)('ghcr.io')).toMatchObject({ kind: 'basic', source: file });
    });
  });

  describe('when the path cannot be read as a file', () => {
    it('rejects with CONFIG_INVALID naming the file', () => {
      const err = thrownBy(() => loadDockerConfig(dir));
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain(dir);
    });
  });

  describe('when the file is malformed', () => {
    it('rejects with CONFIG_INVALID naming the file', () => {
      const file = path.join(dir, 'broken.json');
      fs.writeFileSync(file, '{"auths": ');
      const err = thrownBy(() => loadDockerConfig(file));
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
