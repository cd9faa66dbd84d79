import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serveConfig } from '../../src/config.js';

let dir: string;
let policy: string;
let home: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sigward-config-'));
  policy = path.join(dir, 'policy.yaml');
  fs.writeFileSync(policy, 'unused: the config reader does not load policies\n');
  home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.docker'), { recursive: true });
  fs.writeFileSync(path.join(home, '.docker', 'config.json'), JSON.stringify({ credHelpers: { 'gcr.io': 'gcloud' }, credsStore: 'desktop' }));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.writeFileSync(path.join(dir, 'bin', 'ecr-credential-provider'), '#!/bin/sh\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'providers.yaml'), [
    'apiVersion: kubelet.config.k8s.io/v1',
    'kind: CredentialProviderConfig',
    'providers:',
    '  - { name: ecr-credential-provider, matchImages: ["*.dkr.ecr.*.amazonaws.com"], defaultCacheDuration: 12h, apiVersion: credentialprovider.kubelet.k8s.io/v1 }',
  ].join('\n'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('serve\'s credential options', () => {
  it('warns that the default docker config\'s helpers are not run, naming what they cover', () => {
    const config = serveConfig({ 'policy-file': [policy] }, { HOME: home });
    expect(config.warnings).toEqual([
      `docker config ${path.join(home, '.docker', 'config.json')} names credential helpers (for gcr.io, *); serve runs them only for a config named by --registry-config, so those registries get no credential from it`,
    ]);
  });

  it('runs them, without a warning, for a config named by --registry-config', () => {
    const config = serveConfig({ 'policy-file': [policy], 'registry-config': path.join(home, '.docker', 'config.json') }, { HOME: home });
    expect(config.warnings).toEqual([]);
  });

  it('reads --credential-provider-config with --credential-provider-bin-dir', () => {
    const config = serveConfig({ 'policy-file': [policy], 'credential-provider-config': path.join(dir, 'providers.yaml'), 'credential-provider-bin-dir': path.join(dir, 'bin') }, { HOME: dir });
    expect(config.credentialPlugins.map((p) => p.file)).toEqual([path.join(dir, 'bin', 'ecr-credential-provider')]);
  });

  it.each([
    [{ 'credential-provider-config': 'providers.yaml' }, 'USAGE', '--credential-provider-config and --credential-provider-bin-dir go together'],
    [{ 'credential-provider-bin-dir': '/bin' }, 'USAGE', '--credential-provider-config and --credential-provider-bin-dir go together'],
    [{ 'credential-provider-config': '/nonexistent/providers.yaml', 'credential-provider-bin-dir': '/bin' }, 'FILE_UNREADABLE', '/nonexistent/providers.yaml'],
  ])('refuses %j', (flags, code, message) => {
    let err: (Error & { code?: string }) | undefined;
    try {
      serveConfig({ 'policy-file': [policy], ...flags }, { HOME: dir });
    } catch (caught) {
      err = caught as Error & { code?: string };
    }
    expect(err?.code).toBe(code);
    expect(err?.message).toContain(message);
  });
});
