import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { run } from '../../src/cli/run.js';

/** A real cosign public key, so that a failure is about the reference and never the key file. */
const REAL_KEY = fileURLToPath(new URL('../fixtures/bundles/tobby-fetch-cosign-v3.0.4-key/bundle-cosign.pub', import.meta.url));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: { HOME: mkdtempSync(join(tmpdir(), 'sigward-cli-')) } } };
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => { resolve(port); });
    });
  });
}

describe('sigward command line', () => {
  it.each([['--version'], ['version']])('prints the package version for %s and exits 0', async (flag) => {
    const t = io();
    await expect(run([flag], t.io)).resolves.toBe(0);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(t.out).toEqual([`sigward ${pkg.version}`]);
  });

  describe('when the input is wrong', () => {
    it.each([
      ['no command', [], /usage/],
      ['an unknown command', ['sign'], /unknown command 'sign'/],
      ['verify without --key', ['verify', 'quay.io/a/b:1'], /--key is required/],
      ['verify with a missing key file', ['verify', 'quay.io/a/b:1', '--key', '/nonexistent/cosign.pub'], /cannot read key file \/nonexistent\/cosign.pub.*FILE_UNREADABLE/],
      ['verify with a malformed reference', ['verify', 'quay.io/a/b@sha256:12', '--key', REAL_KEY], /DIGEST_INVALID/],
      ['an unknown flag', ['resolve', 'quay.io/a/b:1', '--bogus'], /bogus/],
      ['--threshold above the number of keys', ['verify', 'quay.io/a/b:1', '--key', 'a', '--threshold', '2'], /--threshold: expected an integer from 1 to 1/],
      ['serve with a webhook timeout over 30 s', ['serve', '--policy-file', 'p.yaml', '--webhook-timeout', '31'], /at most 30 seconds/],
      ['serve with an unknown --no-match', ['serve', '--policy-file', 'p.yaml', '--no-match', 'maybe'], /--no-match: expected deny\|warn\|allow/],
      ['check without manifests', ['check', '--policy-file', 'p.yaml'], /at least one MANIFEST/],
    ])('exits 2 for %s, naming the culprit', async (_name, argv, message) => {
      const t = io();
      await expect(run(argv, t.io)).resolves.toBe(2);
      expect(t.err.join('\n')).toMatch(message);
    });

    it('exits 2 naming the file when a key file holds no public key', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sigward-key-'));
      const file = join(dir, 'not-a-key.pub');
      writeFileSync(file, 'hello\n');
      const t = io();
      await expect(run(['verify', 'quay.io/a/b:1', '--key', file], t.io)).resolves.toBe(2);
      expect(t.err.join('\n')).toContain(`${file}: not a PEM public key (KEY_INVALID)`);
    });
  });

  describe('when the registry cannot be reached', () => {
    it('exits 1 (not verified) naming the image and the reason', async () => {
      const file = fileURLToPath(new URL('../fixtures/legacy/containers-image/cosign.pub', import.meta.url));
      const port = await closedPort();
      const t = io();
      const code = await run(['verify', `127.0.0.1:${port}/acme/app:1`, '--key', file, '--insecure-registry', `127.0.0.1:${port}`, '--timeout', '2'], t.io);
      expect(code).toBe(1);
      expect(t.err.join('\n')).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}/acme/app:1.*REGISTRY_UNREACHABLE`));
    });
  });
});
