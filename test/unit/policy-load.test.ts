import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { PolicyError, loadPolicyFiles, parsePolicyText } from '../../src/policy/index.js';

const COSIGN_PUB = readFileSync(new URL('../fixtures/legacy/containers-image/cosign.pub', import.meta.url), 'utf8');
const RSA_PUB = readFileSync(new URL('../fixtures/legacy/sigstore-rs/rsa-2048.pub', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'sigward-policy-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function indent(text: string, spaces: number): string {
  return text.trimEnd().split('\n').map((line) => ' '.repeat(spaces) + line).join('\n');
}

function policyYaml(kind: string, name: string, extra = '', key = COSIGN_PUB): string {
  const namespace = kind === 'ImagePolicy' ? '\n  namespace: team-a' : '';
  return `apiVersion: sigward.dev/v1alpha1
kind: ${kind}
metadata:
  name: ${name}${namespace}
spec:
  images:
    - glob: "registry.example.com/acme/**"
  authorities:
    - name: release
      key:
        data: |
${indent(key, 10)}
${extra}`;
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function failure(paths: string[]): Promise<PolicyError> {
  try {
    await loadPolicyFiles(paths);
  } catch (err) {
    if (err instanceof PolicyError) return err;
    throw err;
  }
  throw new Error('expected loadPolicyFiles to fail');
}

describe('loadPolicyFiles', () => {
  describe('when files hold several valid documents', () => {
    it('compiles each policy, skipping empty documents and comments', async () => {
      const a = file('a.yaml', `# acme policies\n---\n${policyYaml('ClusterImagePolicy', 'acme-release')}---\n---\n# nothing here\n---\n${policyYaml('ImagePolicy', 'team-images')}`);
      const b = file('b.yaml', policyYaml('ClusterImagePolicy', 'acme-rsa', '  mode: audit\n', RSA_PUB));
      const policies = await loadPolicyFiles([a, b]);
      expect(policies.map((p) => [p.kind, p.name, p.namespace, p.mode, p.source])).toEqual([
        ['ClusterImagePolicy', 'acme-release', undefined, 'enforce', `${a}#1 (ClusterImagePolicy acme-release)`],
        ['ImagePolicy', 'team-images', 'team-a', 'enforce', `${a}#4 (ImagePolicy team-images)`],
        ['ClusterImagePolicy', 'acme-rsa', undefined, 'audit', `${b}#1 (ClusterImagePolicy acme-rsa)`],
      ]);
      expect(policies[2]!.authorities[0]!.key?.algorithm).toBe('rsa');
    });

    it('returns no policies for an empty file', async () => {
      expect(await loadPolicyFiles([file('empty.yaml', '')])).toEqual([]);
    });
  });

  describe('when several files and documents have problems', () => {
    it('rejects with POLICY_INVALID listing the problems of every file and document', async () => {
      const a = file('bad-a.yaml', `${policyYaml('ClusterImagePolicy', 'one', '  threshold: 2\n')}---\n${policyYaml('ClusterImagePolicy', 'two', '  mode: strict\n')}`);
      const b = file('bad-b.yaml', policyYaml('ClusterImagePolicy', 'three', '', 'garbage'));
      const err = await failure([a, b]);
      expect(err.code).toBe('POLICY_INVALID');
      expect(err.problems).toEqual([
        `${a}#1 (ClusterImagePolicy one): spec.threshold: must be a whole number from 1 to 1 (the number of authorities), got 2`,
        `${a}#2 (ClusterImagePolicy two): spec.mode: must be enforce, warn, audit, not "strict"`,
        `${b}#1 (ClusterImagePolicy three): spec.authorities[0].key.data: not a PEM public key`,
      ]);
      expect(err.message).toBe(err.problems.join('\n'));
    });

    it('reports YAML syntax errors with their position, next to the other documents', async () => {
      const a = file('syntax.yaml', `a: 1\na: 2\n---\n${policyYaml('ClusterImagePolicy', 'fine')}---\nkind: [\n`);
      const err = await failure([a]);
      expect(err.problems).toHaveLength(2);
      expect(err.problems[0]).toMatch(new RegExp(`^${a}#1: not YAML: Map keys must be unique at line 2, column 1$`));
      expect(err.problems[1]).toMatch(new RegExp(`^${a}#3: not YAML: .*line \\d+`));
    });

    it('refuses a document that expands aliases without bound', async () => {
      const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
      for (let i = 0; i < 8; i++) bomb.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
      const err = await failure([file('bomb.yaml', bomb.join('\n'))]);
      expect(err.problems[0]).toMatch(/#1: not usable YAML: .*alias/i);
    });

    it('reports a policy defined twice, since only one of them could exist in a cluster', async () => {
      const a = file('dup-a.yaml', policyYaml('ClusterImagePolicy', 'acme'));
      const b = file('dup-b.yaml', `${policyYaml('ClusterImagePolicy', 'acme', '  mode: warn\n')}---\n${policyYaml('ImagePolicy', 'acme')}`);
      const err = await failure([a, b]);
      expect(err.problems).toEqual([
        `${b}#1 (ClusterImagePolicy acme): metadata.name: another ClusterImagePolicy with this name is defined at ${a}#1 (ClusterImagePolicy acme)`,
      ]);
    });

    it('reports a secretRef, which only a cluster can read', async () => {
      const text = policyYaml('ClusterImagePolicy', 'secret').replace(/data: \|[\s\S]*$/, 'secretRef: { name: keys, namespace: sigward-system, key: cosign.pub }\n');
      const err = await failure([file('secret.yaml', text)]);
      expect(err.problems).toEqual([expect.stringContaining('spec.authorities[0].key.secretRef: Secrets can only be read in a cluster')]);
    });
  });

  describe('when a file cannot be read', () => {
    it('rejects with FILE_UNREADABLE naming the file, and still reports the other files', async () => {
      const missing = join(dir, 'missing.yaml');
      const bad = file('bad-c.yaml', policyYaml('ClusterImagePolicy', 'c', '  mode: x\n'));
      const err = await failure([missing, bad, dir]);
      expect(err.code).toBe('FILE_UNREADABLE');
      expect(err.problems).toHaveLength(3);
      expect(err.problems[0]).toMatch(new RegExp(`^${missing}: cannot be read: .*ENOENT`));
      expect(err.problems[1]).toBe(`${bad}#1 (ClusterImagePolicy c): spec.mode: must be enforce, warn, audit, not "x"`);
      expect(err.problems[2]).toMatch(new RegExp(`^${dir}: cannot be read: .*EISDIR`));
    });

    it('rejects a file larger than 1 MiB', async () => {
      const big = file('big.yaml', `# ${'x'.repeat(1024 * 1024)}\n`);
      const err = await failure([big]);
      expect(err.code).toBe('FILE_UNREADABLE');
      expect(err.problems[0]).toMatch(/1048576 at most/);
    });
  });
});

describe('parsePolicyText', () => {
  it('names the document without kind or name by its position only', () => {
    const { policies, problems } = parsePolicyText('---\n- just\n- a list\n', 'inline.yaml');
    expect(policies).toEqual([]);
    expect(problems).toEqual(['inline.yaml#1: (document): must be a mapping with apiVersion, kind, metadata and spec, not a list']);
  });

  it('quotes nothing unsafe from the document into where it is', () => {
    const { problems } = parsePolicyText('kind: "Evil\\nKind"\nmetadata: { name: "a\\nb" }\n', 'inline.yaml');
    expect(problems.every((line) => line.startsWith('inline.yaml#1: '))).toBe(true);
    expect(problems.join('\n').split('\n')).toHaveLength(problems.length);
  });
});
