/* eslint-disable @typescript-eslint/no-explicit-any -- the tests mutate untyped documents, as a user's YAML is untyped */
import { describe, expect, it } from '@jest/globals';
import { parsePolicy, validatePolicy, type KeyResolver, type SecretKeyRef } from '../../src/policy/index.js';
import { WHERE, clusterDoc, problemsOf } from './policy-fixtures.js';

const config = (host: string, user: string, password: string): string =>
  JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });

function docWith(secrets: unknown): Record<string, any> {
  const doc = clusterDoc();
  doc.spec.authorities[0].signaturePullSecrets = secrets;
  doc.spec.authorities[0].signatureRepository = 'sigs.example.com/acme/signatures';
  return doc;
}

describe('signaturePullSecrets', () => {
  const secrets: Record<string, string> = {
    'sigward-system/sig-reader/.dockerconfigjson': config('sigs.example.com', 'robot', 'pw-1'),
    'sigward-system/legacy/.dockercfg': JSON.stringify({ 'other.example': { auth: Buffer.from('old:pw').toString('base64') } }),
  };
  const seen: SecretKeyRef[] = [];
  const resolveKey: KeyResolver = (ref) => {
    seen.push(ref);
    return secrets[`${ref.namespace}/${ref.name}/${ref.key}`];
  };
  const options = { resolveKey, pullSecretNamespace: 'sigward-system', revokeUnreadableSecrets: true };

  it('gives the authority the Secrets\' credentials, in order, read from the policy\'s namespace', async () => {
    const compiled = parsePolicy(docWith([{ name: 'sig-reader' }, { name: 'legacy' }]), WHERE, options);
    const credentials = compiled.authorities[0]!.signatureCredentials;
    expect(credentials?.scope).toMatch(/^pull:[0-9a-f]{16}$/);
    await expect(Promise.resolve(credentials?.provider('sigs.example.com'))).resolves.toEqual({ kind: 'basic', username: 'robot', password: 'pw-1', source: 'Secret sigward-system/sig-reader' });
    await expect(Promise.resolve(credentials?.provider('other.example'))).resolves.toMatchObject({ username: 'old', source: 'Secret sigward-system/legacy' });
    expect(seen.every((ref) => ref.namespace === 'sigward-system')).toBe(true);
  });

  it('changes the policy identity when a Secret is rotated, and not otherwise', () => {
    const first = parsePolicy(docWith([{ name: 'sig-reader' }]), WHERE, options);
    expect(parsePolicy(docWith([{ name: 'sig-reader' }]), WHERE, options).identity).toBe(first.identity);
    secrets['sigward-system/sig-reader/.dockerconfigjson'] = config('sigs.example.com', 'robot', 'pw-2');
    const rotated = parsePolicy(docWith([{ name: 'sig-reader' }]), WHERE, options);
    expect(rotated.identity).not.toBe(first.identity);
    expect(rotated.authorities[0]!.signatureCredentials?.scope).not.toBe(first.authorities[0]!.signatureCredentials?.scope);
  });

  it('revokes the authority while a Secret is missing or holds no readable config, naming it and never its content', () => {
    secrets['sigward-system/broken/.dockerconfigjson'] = '{"auths": {"sigs.example.com": {"auth": "s3cret-not-base64!"}}}';
    const missing = parsePolicy(docWith([{ name: 'gone' }]), WHERE, options);
    expect(missing.authorities).toHaveLength(0);
    expect(missing.revoked?.[0]?.reason).toBe('spec.authorities[0].signaturePullSecrets: Secret sigward-system/gone holds no .dockerconfigjson or .dockercfg (or does not exist)');
    const broken = parsePolicy(docWith([{ name: 'broken' }]), WHERE, options);
    expect(broken.revoked?.[0]?.reason).toContain('Secret sigward-system/broken');
    expect(broken.revoked?.[0]?.reason).not.toContain('s3cret');
  });

  it('is refused in a policy file, where no Secret can be read', () => {
    expect(problemsOf(() => parsePolicy(docWith([{ name: 'sig-reader' }]), WHERE))).toEqual([
      'spec.authorities[0].signaturePullSecrets: Secrets can only be read in a cluster',
    ]);
  });

  it('reports malformed entries with their field paths', () => {
    expect(problemsOf(() => validatePolicy(docWith([{ name: 'Bad_Name' }, { secret: 'x' }, { name: 'a' }, { name: 'a' }]), WHERE, options))).toEqual([
      'spec.authorities[0].signaturePullSecrets[0].name: "Bad_Name" must be a Secret name',
      'spec.authorities[0].signaturePullSecrets[1].secret: unknown field (expected one of name)',
      'spec.authorities[0].signaturePullSecrets[1].name: is required',
      'spec.authorities[0].signaturePullSecrets[3].name: "a" is listed twice',
    ]);
    expect(problemsOf(() => validatePolicy(docWith('sig-reader'), WHERE, options))).toEqual(['spec.authorities[0].signaturePullSecrets: must be a list, not a string']);
  });
});
