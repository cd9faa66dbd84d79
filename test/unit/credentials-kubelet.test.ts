import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  imageMatches,
  KubeletPlugins,
  parseGoDuration,
  parseImagePattern,
  readCredentialProviderConfig,
  type PluginSettings,
} from '../../src/credentials/index.js';

const SECRET = 'plugin-issued-token';
let bin: string;

function pattern(text: string) {
  const parsed = parseImagePattern(text);
  if (typeof parsed === 'string') throw new Error(parsed);
  return parsed;
}

/** Writes an exec plugin: logs its request to `<bin>/<name>.calls`, then runs `body`. */
function plugin(name: string, body: string): void {
  fs.writeFileSync(path.join(bin, name), `#!/bin/sh\nrequest=$(cat)\necho "$request $*" >> "${bin}/${name}.calls"\n${body}\n`, { mode: 0o755 });
}

function calls(name: string): string[] {
  try {
    return fs.readFileSync(path.join(bin, `${name}.calls`), 'utf8').trim().split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

function settings(name: string, overrides: Partial<PluginSettings> = {}): PluginSettings {
  return {
    name,
    file: path.join(bin, name),
    matchImages: [pattern('*.registry.example'), pattern('127.0.0.1:5000')],
    defaultCacheMs: 60_000,
    apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
    args: ['get-credentials'],
    env: {},
    ...overrides,
  };
}

const RESPOND = (keyType: string, duration: string | null, key = '*.registry.example'): string => {
  const doc = { apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderResponse', cacheKeyType: keyType, ...(duration === null ? {} : { cacheDuration: duration }), auth: { [key]: { username: 'AWS', password: SECRET }, '127.0.0.1:5000': { username: 'local', password: SECRET } } };
  return `echo '${JSON.stringify(doc)}'`;
};

beforeAll(() => {
  bin = fs.mkdtempSync(path.join(os.tmpdir(), 'sigward-plugins-'));
});
afterAll(() => {
  fs.rmSync(bin, { recursive: true, force: true });
});

describe('matchImages (the kubelet\'s URL glob)', () => {
  it.each([
    ['*.dkr.ecr.*.amazonaws.com', '123456789012.dkr.ecr.us-east-1.amazonaws.com/app', true],
    ['*.azurecr.io', 'acme.azurecr.io/team/app', true],
    ['*.io', 'registry.k8s.io/pause', false],
    ['gcr.io', 'gcr.io/project/app', true],
    ['gcr.io', 'us.gcr.io/project/app', false],
    ['app*.k8s.io', 'apps.k8s.io/x', true],
    ['k8s.*', 'k8s.io/x', true],
    ['registry.io:8080/path', 'registry.io:8080/path/app', true],
    ['registry.io:8080/path', 'registry.io/path/app', false],
    ['registry.io', 'registry.io:8080/app', false],
    ['registry.io/team', 'registry.io/other/app', false],
    ['https://registry.io', 'registry.io/app', true],
    ['reg[0-9].example', 'reg7.example/app', true],
    ['reg[^0-9].example', 'reg7.example/app', false],
  ])('%s against %s: %s', (glob, image, expected) => {
    expect(imageMatches(pattern(glob), image)).toBe(expected);
  });

  it('refuses a pattern it cannot read, with the reason', () => {
    expect(parseImagePattern('')).toBe('no registry host');
    expect(parseImagePattern('registry.io:80*')).toContain('port');
    expect(parseImagePattern('reg[0-9.example')).toContain('unclosed');
    expect(parseImagePattern('bad_host.io')).toContain('cannot appear');
  });
});

describe('parseGoDuration', () => {
  it.each([['12h', 43_200_000], ['1h30m', 5_400_000], ['0.5s', 500], ['0', 0], ['250ms', 250], ['1m0s', 60_000]])('%s is %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });
  it.each(['', '12', '-1h', 'h', '1d', '1h ', 'forever'])('%j is not a duration', (text) => {
    expect(parseGoDuration(text)).toBeUndefined();
  });
});

describe('readCredentialProviderConfig', () => {
  beforeAll(() => {
    plugin('ecr-credential-provider', RESPOND('Registry', null));
    fs.writeFileSync(path.join(bin, 'not-executable'), 'data', { mode: 0o644 });
  });

  it('reads the kubelet\'s v1 file with args and env', () => {
    const text = [
      'apiVersion: kubelet.config.k8s.io/v1',
      'kind: CredentialProviderConfig',
      'providers:',
      '  - name: ecr-credential-provider',
      '    matchImages: ["*.dkr.ecr.*.amazonaws.com", "*.dkr.ecr.*.amazonaws.com.cn"]',
      '    defaultCacheDuration: 12h',
      '    apiVersion: credentialprovider.kubelet.k8s.io/v1',
      '    args: [get-credentials]',
      '    env: [{ name: AWS_PROFILE, value: temp }]',
    ].join('\n');
    const [read] = readCredentialProviderConfig('/etc/kubernetes/credential-providers.yaml', bin, text);
    expect(read).toMatchObject({ name: 'ecr-credential-provider', file: path.join(bin, 'ecr-credential-provider'), defaultCacheMs: 43_200_000, args: ['get-credentials'], env: { AWS_PROFILE: 'temp' } });
    expect(read?.matchImages.map((p) => p.text)).toEqual(['*.dkr.ecr.*.amazonaws.com', '*.dkr.ecr.*.amazonaws.com.cn']);
  });

  it('reports every problem at once with its field path', () => {
    const text = JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v2',
      kind: 'CredentialProviderConfig',
      providers: [
        { name: '../escape', matchImages: [], apiVersion: 'credentialprovider.kubelet.k8s.io/v9' },
        { name: 'missing-binary', matchImages: ['ok.io', 'bad host'], defaultCacheDuration: '1d', apiVersion: 'credentialprovider.kubelet.k8s.io/v1', env: [{ name: '1X' }] },
        { name: 'not-executable', matchImages: ['ok.io'], defaultCacheDuration: '1h', apiVersion: 'credentialprovider.kubelet.k8s.io/v1' },
        { name: 'ecr-credential-provider', matchImages: ['ok.io'], defaultCacheDuration: '1h', apiVersion: 'credentialprovider.kubelet.k8s.io/v1', tokenAttributes: { serviceAccountTokenAudience: 'x' } },
      ],
    });
    let message = '';
    try {
      readCredentialProviderConfig('/cfg/providers.json', bin, text);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('CONFIG_INVALID');
      message = (err as Error).message;
    }
    for (const part of [
      '/cfg/providers.json: apiVersion',
      'providers[0].name', 'providers[0].matchImages', 'providers[0].defaultCacheDuration', 'providers[0].apiVersion',
      `providers[1].name: no executable ${path.join(bin, 'missing-binary')}`, 'providers[1].matchImages[1]', 'providers[1].defaultCacheDuration', 'providers[1].env[0]',
      'providers[2].name: no executable', 'providers[3].tokenAttributes: the service-account-token mode is not supported',
    ]) expect(message).toContain(part);
  });

  it('accepts v1beta1 and v1alpha1 as the kubelet does', () => {
    for (const version of ['v1beta1', 'v1alpha1']) {
      const text = JSON.stringify({ apiVersion: `kubelet.config.k8s.io/${version}`, kind: 'CredentialProviderConfig', providers: [{ name: 'ecr-credential-provider', matchImages: ['ok.io'], defaultCacheDuration: '0', apiVersion: `credentialprovider.kubelet.k8s.io/${version}` }] });
      expect(readCredentialProviderConfig('f', bin, text)).toHaveLength(1);
    }
  });
});

describe('KubeletPlugins', () => {
  it('sends a CredentialProviderRequest for the image, with the plugin\'s args and env, and uses the most specific auth entry', async () => {
    plugin('p-request', `[ "$EXTRA" = "from-config" ] || exit 9\n${RESPOND('Image', '1h', 'acme.registry.example/team')}`);
    const plugins = new KubeletPlugins([settings('p-request', { env: { EXTRA: 'from-config' } })]);
    const found = await plugins.provider('acme.registry.example', { repository: 'team/app' });
    expect(found).toEqual({ kind: 'basic', username: 'AWS', password: SECRET, source: 'credential provider plugin p-request' });
    const [line] = calls('p-request');
    expect(JSON.parse(line!.replace(/ get-credentials$/, ''))).toEqual({ apiVersion: 'credentialprovider.kubelet.k8s.io/v1', kind: 'CredentialProviderRequest', image: 'acme.registry.example/team/app' });
    expect(line).toMatch(/ get-credentials$/);
    // The answer's entry for acme.registry.example/team does not cover another path.
    await expect(plugins.provider('acme.registry.example', { repository: 'other/app' })).resolves.toBeUndefined();
  });

  it('runs no plugin for an image its matchImages does not cover', async () => {
    plugin('p-scope', RESPOND('Global', '1h'));
    const plugins = new KubeletPlugins([settings('p-scope')]);
    await expect(plugins.provider('ghcr.io', { repository: 'org/app' })).resolves.toBeUndefined();
    await expect(plugins.provider('127.0.0.1:5001', { repository: 'app' })).resolves.toBeUndefined();
    expect(calls('p-scope')).toHaveLength(0);
  });

  it.each([
    ['Image', ['a.registry.example/x', 'a.registry.example/x', 'a.registry.example/y', 'b.registry.example/x'], 3],
    ['Registry', ['a.registry.example/x', 'a.registry.example/y', 'b.registry.example/x'], 2],
    ['Global', ['a.registry.example/x', 'b.registry.example/y', '127.0.0.1:5000/z'], 1],
  ])('keeps a %s answer for the images its cacheKeyType names', async (keyType, images, runs) => {
    const name = `p-key-${keyType}`;
    plugin(name, RESPOND(keyType, '1h'));
    const plugins = new KubeletPlugins([settings(name)]);
    for (const image of images) {
      const [registry, repository] = image.split(/\/(.*)/s);
      expect(await plugins.provider(registry!, { repository: repository! })).toMatchObject({ password: SECRET });
    }
    expect(calls(name)).toHaveLength(runs);
  });

  it('honours cacheDuration, else defaultCacheDuration, and never reuses an answer past it; 0 keeps none', async () => {
    let now = 1_000_000;
    plugin('p-ttl', RESPOND('Registry', '10s'));
    plugin('p-default', RESPOND('Registry', null));
    plugin('p-zero', RESPOND('Registry', '0s'));
    const plugins = new KubeletPlugins([settings('p-ttl')], { now: () => now });
    const ask = (registry: string): Promise<unknown> => Promise.resolve(plugins.provider(registry, { repository: 'app' }));
    await ask('a.registry.example');
    now += 9_999;
    await ask('a.registry.example');
    expect(calls('p-ttl')).toHaveLength(1);
    now += 2;
    await ask('a.registry.example');
    expect(calls('p-ttl')).toHaveLength(2);
    const zero = new KubeletPlugins([settings('p-zero')], { now: () => now });
    await zero.provider('a.registry.example', { repository: 'app' });
    await zero.provider('a.registry.example', { repository: 'app' });
    expect(calls('p-zero')).toHaveLength(2);
    const fallback = new KubeletPlugins([settings('p-default', { defaultCacheMs: 30_000 })], { now: () => now });
    await fallback.provider('a.registry.example', { repository: 'app' });
    now += 29_000;
    await fallback.provider('a.registry.example', { repository: 'app' });
    expect(calls('p-default')).toHaveLength(1);
    now += 2_000;
    await fallback.provider('a.registry.example', { repository: 'app' });
    expect(calls('p-default')).toHaveLength(2);
  });

  it('runs a plugin once for a burst of lookups of one image', async () => {
    plugin('p-burst', `sleep 0.3\n${RESPOND('Image', '1h')}`);
    const plugins = new KubeletPlugins([settings('p-burst')]);
    const answers = await Promise.all(Array.from({ length: 20 }, () => Promise.resolve(plugins.provider('a.registry.example', { repository: 'app' }))));
    expect(answers.every((a) => a?.kind === 'basic')).toBe(true);
    expect(calls('p-burst')).toHaveLength(1);
  });

  it.each([
    ['p-exit', 'echo "token=abc ' + SECRET + '" >&2; echo "' + SECRET + '"; exit 2', 'exit status 2'],
    ['p-json', `echo "${SECRET}"`, 'its answer is not JSON'],
    ['p-kind', `echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"Other","cacheKeyType":"Image"}'`, 'its answer is not a CredentialProviderResponse'],
    ['p-version', `echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1beta1","kind":"CredentialProviderResponse","cacheKeyType":"Image"}'`, "its answer's apiVersion is not credentialprovider.kubelet.k8s.io/v1, as asked"],
    ['p-keytype', `echo '{"apiVersion":"credentialprovider.kubelet.k8s.io/v1","kind":"CredentialProviderResponse","cacheKeyType":"Pod"}'`, 'cacheKeyType: expected Image, Registry, Global'],
    ['p-slow', 'sleep 30', 'timed out after 300 ms'],
    ['p-flood', 'exec yes', 'printed more than 1048576 bytes'],
  ])('fails with CREDENTIALS_UNAVAILABLE naming plugin %s and the registry, never its output', async (name, body, why) => {
    plugin(name, body);
    const plugins = new KubeletPlugins([settings(name)], { timeoutMs: 300 });
    const err = await Promise.resolve(plugins.provider('a.registry.example', { repository: 'app' })).then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as Error & { code?: string });
    expect(err.code).toBe('CREDENTIALS_UNAVAILABLE');
    expect(err.message).toContain(`credential provider plugin ${name} for registry a.registry.example: ${why}`);
    expect(err.message).not.toContain(SECRET);
  });

  it('runs a failed plugin again no sooner than its backoff, doubling it, and goes on to the next plugin', async () => {
    let now = 5_000_000;
    const failures: string[] = [];
    plugin('p-broken', 'exit 1');
    plugin('p-next', RESPOND('Image', '0'));
    const plugins = new KubeletPlugins([settings('p-broken'), settings('p-next')], { now: () => now, onFailure: (m) => failures.push(m) });
    const ask = () => plugins.provider('a.registry.example', { repository: 'app' });
    await expect(Promise.resolve(ask())).resolves.toMatchObject({ source: 'credential provider plugin p-next' });
    await ask();
    expect(calls('p-broken')).toHaveLength(1);
    now += 2_001;
    await ask();
    expect(calls('p-broken')).toHaveLength(2);
    now += 2_001;
    await ask();
    expect(calls('p-broken')).toHaveLength(2);
    now += 2_000;
    await ask();
    expect(calls('p-broken')).toHaveLength(3);
    expect(failures).toHaveLength(3);
    expect(failures[0]).toContain('p-broken');
  });

  it('lets a caller stop waiting while the run goes on for the next caller', async () => {
    plugin('p-wait', `sleep 0.5\n${RESPOND('Image', '1h')}`);
    const plugins = new KubeletPlugins([settings('p-wait')]);
    await expect(Promise.resolve(plugins.provider('a.registry.example', { repository: 'app', signal: AbortSignal.timeout(50) }))).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    await expect(Promise.resolve(plugins.provider('a.registry.example', { repository: 'app' }))).resolves.toMatchObject({ password: SECRET });
    expect(calls('p-wait')).toHaveLength(1);
  });
});
