import { describe, expect, it } from '@jest/globals';
import { isSigwardError } from '../../src/errors.js';
import { firstOf, podPullSecrets, pullSecretCredential, scopeOf } from '../../src/credentials/pull-secrets.js';

/** A pull Secret as `kubectl create secret docker-registry` writes it. */
function dockerRegistrySecret(host: string, username: string, password: string) {
  const config = { auths: { [host]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } } };
  return { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(JSON.stringify(config)).toString('base64') } };
}

describe('podPullSecrets', () => {
  describe('when a Pod names pull secrets and a service account', () => {
    it('lists the names in order, once each, with the account', () => {
      const pod = { spec: { serviceAccountName: 'builder', imagePullSecrets: [{ name: 'a' }, { name: 'b' }, { name: 'a' }], containers: [] } };
      expect(podPullSecrets('Pod', pod)).toEqual({ names: ['a', 'b'], serviceAccount: 'builder' });
    });
  });
  describe('when a workload names them in its pod template', () => {
    it('reads the template of a Deployment and the job template of a CronJob', () => {
      const template = { spec: { imagePullSecrets: [{ name: 'regcred' }] } };
      expect(podPullSecrets('Deployment', { spec: { template } })).toEqual({ names: ['regcred'], serviceAccount: 'default' });
      expect(podPullSecrets('CronJob', { spec: { jobTemplate: { spec: { template } } } })).toEqual({ names: ['regcred'], serviceAccount: 'default' });
    });
  });
  describe('when the entries are malformed', () => {
    it('skips entries without a usable name and falls back to the default account', () => {
      const pod = { spec: { serviceAccountName: '../x', imagePullSecrets: [{ name: 'ok' }, { name: 'Bad_Name' }, 'plain', { name: 7 }, null] } };
      expect(podPullSecrets('Pod', pod)).toEqual({ names: ['ok'], serviceAccount: 'default' });
    });
  });
  describe('when the kind has no pod spec', () => {
    it('gives undefined, also for inherited property names', () => {
      expect(podPullSecrets('ConfigMap', { spec: {} })).toBeUndefined();
      expect(podPullSecrets('constructor', { spec: {} })).toBeUndefined();
      expect(podPullSecrets('Pod', { spec: 'nope' })).toBeUndefined();
    });
  });
});

describe('pullSecretCredential', () => {
  describe('when the Secret is a kubernetes.io/dockerconfigjson', () => {
    it('gives the credential for its registry, naming the Secret as source', () => {
      const credential = pullSecretCredential(dockerRegistrySecret('registry.example.com:5000', 'robot', 's3cret'), 'Secret team-a/regcred');
      expect(credential?.provider('registry.example.com:5000')).toEqual({ kind: 'basic', username: 'robot', password: 's3cret', source: 'Secret team-a/regcred' });
      expect(credential?.provider('other.example.com')).toBeUndefined();
    });
  });
  describe('when the Secret is a kubernetes.io/dockercfg', () => {
    it('reads the older map without auths', () => {
      const cfg = { 'https://index.docker.io/v1/': { auth: Buffer.from('me:pw').toString('base64') } };
      const secret = { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': Buffer.from(JSON.stringify(cfg)).toString('base64') } };
      expect(pullSecretCredential(secret, 'Secret s')?.provider('docker.io')).toMatchObject({ username: 'me', password: 'pw' });
    });
  });
  describe('when the Secret has another type, or lacks its key', () => {
    it('gives undefined, as the kubelet ignores it', () => {
      const real = dockerRegistrySecret('r.example.com', 'u', 'p');
      expect(pullSecretCredential({ ...real, type: 'Opaque' }, 'Secret s')).toBeUndefined();
      expect(pullSecretCredential({ type: real.type, data: {} }, 'Secret s')).toBeUndefined();
    });
  });
  describe('when the config in it is not JSON', () => {
    it('throws CONFIG_INVALID without quoting the content', () => {
      const real = dockerRegistrySecret('r.example.com', 'u', 'topsecret');
      const text = Buffer.from(real.data['.dockerconfigjson'], 'base64').toString('utf8');
      const broken = { ...real, data: { '.dockerconfigjson': Buffer.from(text.slice(0, -2)).toString('base64') } };
      let caught: unknown;
      try {
        pullSecretCredential(broken, 'Secret team-a/regcred');
      } catch (err) {
        caught = err;
      }
      expect(isSigwardError(caught, 'CONFIG_INVALID')).toBe(true);
      expect((caught as Error).message).toContain('Secret team-a/regcred');
      expect((caught as Error).message).not.toContain('topsecret');
    });
  });
  describe('when two Secrets hold the same credentials', () => {
    it('gives them the same fingerprint, and a different one for other credentials', () => {
      const a = pullSecretCredential(dockerRegistrySecret('r.example.com', 'u', 'p'), 'Secret ns1/a');
      const b = pullSecretCredential(dockerRegistrySecret('r.example.com', 'u', 'p'), 'Secret ns2/b');
      const c = pullSecretCredential(dockerRegistrySecret('r.example.com', 'u', 'q'), 'Secret ns2/c');
      expect(a?.fingerprint).toBe(b?.fingerprint);
      expect(a?.fingerprint).not.toBe(c?.fingerprint);
    });
  });
});

describe('firstOf', () => {
  describe('when several pull secrets cover the same registry', () => {
    it('answers with the first one that has a credential, as the kubelet tries them in order', () => {
      const pod = pullSecretCredential(dockerRegistrySecret('r.example.com', 'pod', '1'), 'pod')!;
      const global = pullSecretCredential(dockerRegistrySecret('r.example.com', 'global', '2'), 'global')!;
      const other = pullSecretCredential(dockerRegistrySecret('o.example.com', 'other', '3'), 'other')!;
      const provider = firstOf([other.provider, pod.provider, global.provider])!;
      expect(provider('r.example.com')).toMatchObject({ username: 'pod' });
      expect(provider('o.example.com')).toMatchObject({ username: 'other' });
      expect(provider('n.example.com')).toBeUndefined();
      expect(firstOf([])).toBeUndefined();
    });
  });
});

describe('scopeOf', () => {
  it('is short, stable, and depends on the order credentials are tried in', () => {
    expect(scopeOf(['a', 'b'])).toMatch(/^creds:[0-9a-f]{16}$/);
    expect(scopeOf(['a', 'b'])).toBe(scopeOf(['a', 'b']));
    expect(scopeOf(['a', 'b'])).not.toBe(scopeOf(['b', 'a']));
  });
});
