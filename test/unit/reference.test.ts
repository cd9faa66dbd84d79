import { describe, expect, it } from '@jest/globals';
import { SigwardError, type ErrorCode } from '../../src/errors.js';
import { formatReference, parseReference, type ImageReference } from '../../src/reference/index.js';

const F64 = 'f'.repeat(64);
const SHA = `sha256:${F64}`;
const HEX64 = '1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a';

function codeOf(run: () => unknown): ErrorCode | 'none' | 'not a SigwardError' {
  try {
    run();
    return 'none';
  } catch (err) {
    return err instanceof SigwardError ? err.code : 'not a SigwardError';
  }
}

/** The parts of a reference that parsing decides (the original text aside). */
function parts(ref: ImageReference): Omit<ImageReference, 'original'> {
  return { registry: ref.registry, repository: ref.repository, name: ref.name, tag: ref.tag, digest: ref.digest };
}

// [input, registry, repository, tag, digest]: the valid cases of distribution's reference and
// normalize tables, as sigward normalizes them (Docker Hub made explicit, `latest` added).
const VALID: readonly (readonly [string, string, string, string | undefined, string | undefined])[] = [
  ['test_com', 'docker.io', 'library/test_com', 'latest', undefined],
  ['test.com:tag', 'docker.io', 'library/test.com', 'tag', undefined],
  ['test.com:5000', 'docker.io', 'library/test.com', '5000', undefined],
  ['test.com/repo:tag', 'test.com', 'repo', 'tag', undefined],
  ['test:5000/repo', 'test:5000', 'repo', 'latest', undefined],
  ['test:5000/repo:tag', 'test:5000', 'repo', 'tag', undefined],
  [`test:5000/repo@${SHA}`, 'test:5000', 'repo', undefined, SHA],
  [`test:5000/repo:tag@${SHA}`, 'test:5000', 'repo', 'tag', SHA],
  ['lowercase:Uppercase', 'docker.io', 'library/lowercase', 'Uppercase', undefined],
  ['sub-dom1.foo.com/bar/baz/quux', 'sub-dom1.foo.com', 'bar/baz/quux', 'latest', undefined],
  ['sub-dom1.foo.com/bar/baz/quux:some-long-tag', 'sub-dom1.foo.com', 'bar/baz/quux', 'some-long-tag', undefined],
  ['b.gcr.io/test.example.com/my-app:test.example.com', 'b.gcr.io', 'test.example.com/my-app', 'test.example.com', undefined],
  ['xn--n3h.com/myimage:xn--n3h.com', 'xn--n3h.com', 'myimage', 'xn--n3h.com', undefined],
  ['foo_bar.com:8080', 'docker.io', 'library/foo_bar.com', '8080', undefined],
  ['foo/foo_bar.com:8080', 'docker.io', 'foo/foo_bar.com', '8080', undefined],
  ['192.168.1.1', 'docker.io', 'library/192.168.1.1', 'latest', undefined],
  ['192.168.1.1:tag', 'docker.io', 'library/192.168.1.1', 'tag', undefined],
  ['192.168.1.1:5000', 'docker.io', 'library/192.168.1.1', '5000', undefined],
  ['192.168.1.1/repo', '192.168.1.1', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo', '192.168.1.1:5000', 'repo', 'latest', undefined],
  ['192.168.1.1:5000/repo:5050', '192.168.1.1:5000', 'repo', '5050', undefined],
  ['[2001:db8::1]/repo', '[2001:db8::1]', 'repo', 'latest', undefined],
  ['[2001:db8:1:2:3:4:5:6]/repo:tag', '[2001:db8:1:2:3:4:5:6]', 'repo', 'tag', undefined],
  ['[2001:db8::1]:5000/repo', '[2001:db8::1]:5000', 'repo', 'latest', undefined],
  ['[2001:db8::1]:5000/repo:tag', '[2001:db8::1]:5000', 'repo', 'tag', undefined],
  [`[2001:db8::1]:5000/repo@${SHA}`, '[2001:db8::1]:5000', 'repo', undefined, SHA],
  [`[2001:db8::1]:5000/repo:tag@${SHA}`, '[2001:db8::1]:5000', 'repo', 'tag', SHA],
  ['[2001:db8::]:5000/repo', '[2001:db8::]:5000', 'repo', 'latest', undefined],
  ['[::1]:5000/repo', '[::1]:5000', 'repo', 'latest', undefined],
  ['docker/docker', 'docker.io', 'docker/docker', 'latest', undefined],
  ['127.0.0.1:5000/library/debian', '127.0.0.1:5000', 'library/debian', 'latest', undefined],
  ['127.0.0.1:5000/debian', '127.0.0.1:5000', 'debian', 'latest', undefined],
  ['192.168.0.1:80', 'docker.io', 'library/192.168.0.1', '80', undefined],
  ['192.168.0.1:8/debian', '192.168.0.1:8', 'debian', 'latest', undefined],
  ['192.168.0.2:25000/debian', '192.168.0.2:25000', 'debian', 'latest', undefined],
  ['thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'docker.io', 'library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev', 'latest', undefined],
  ['[fc00::1]:5000/docker', '[fc00::1]:5000', 'docker', 'latest', undefined],
  ['[fc00:1:2:3:4:5:6:7]:5000/library/debian', '[fc00:1:2:3:4:5:6:7]:5000', 'library/debian', 'latest', undefined],
  [`docker.io/${HEX64}`, 'docker.io', `library/${HEX64}`, 'latest', undefined],
  [`${HEX64}:v1`, 'docker.io', `library/${HEX64}`, 'v1', undefined],
  [`${HEX64}@${SHA}`, 'docker.io', `library/${HEX64}`, undefined, SHA],
  ['docker-rules/docker', 'docker.io', 'docker-rules/docker', 'latest', undefined],
  ['docker---rules/docker', 'docker.io', 'docker---rules/docker', 'latest', undefined],
  ['d/docker', 'docker.io', 'd/docker', 'latest', undefined],
  ['jess/t', 'docker.io', 'jess/t', 'latest', undefined],
  ['dock__er/docker', 'docker.io', 'dock__er/docker', 'latest', undefined],
  ['other/library', 'docker.io', 'other/library', 'latest', undefined],
  ['library/ubuntu-12.04-base', 'docker.io', 'library/ubuntu-12.04-base', 'latest', undefined],
  ['library/foo/bar', 'docker.io', 'library/foo/bar', 'latest', undefined],
  ['store/foo/bar', 'docker.io', 'store/foo/bar', 'latest', undefined],
  ['example.com:8000/privatebasee', 'example.com:8000', 'privatebasee', 'latest', undefined],
  ['localhost/app', 'localhost', 'app', 'latest', undefined],
  ['localhost:5000/app:v1', 'localhost:5000', 'app', 'v1', undefined],
  ['busybox:latest@sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa', 'docker.io', 'library/busybox', 'latest', 'sha256:86e0e091d0da6bde2456dbb48306f3956bbeb2eae1b5b9a43045843f69fe4aaa'],
];

// [input, code]: distribution's invalid cases, plus the digests sigward refuses to verify at.
const INVALID: readonly (readonly [string, ErrorCode])[] = [
  ['', 'REFERENCE_INVALID'],
  [':justtag', 'REFERENCE_INVALID'],
  [`@${SHA}`, 'REFERENCE_INVALID'],
  [`repo@sha256:${'f'.repeat(34)}`, 'DIGEST_INVALID'],
  [`validname@invaliddigest:${F64}`, 'DIGEST_UNSUPPORTED'],
  ['Uppercase:tag', 'REFERENCE_INVALID'],
  ['test:5000/Uppercase/lowercase:tag', 'REFERENCE_INVALID'],
  [`${'a/'.repeat(128)}a:tag`, 'REFERENCE_NAME_TOO_LONG'],
  ['aa/asdf$$^/aa', 'REFERENCE_INVALID'],
  [`xn--7o8h.com/myimage:xn--7o8h.com@sha512:${'f'.repeat(128)}`, 'DIGEST_UNSUPPORTED'],
  ['[2001:db8::1]', 'REFERENCE_INVALID'],
  ['[2001:db8::1]:5000', 'REFERENCE_INVALID'],
  ['[2001:db8::1]:tag', 'REFERENCE_INVALID'],
  ['[fe80::1%eth0]:5000/repo', 'REFERENCE_INVALID'],
  ['[fe80::1%@invalidzone]:5000/repo', 'REFERENCE_INVALID'],
  ['https://github.com/docker/docker', 'REFERENCE_INVALID'],
  ['docker/Docker', 'REFERENCE_INVALID'],
  ['-docker', 'REFERENCE_INVALID'],
  ['-docker/docker', 'REFERENCE_INVALID'],
  ['-docker.io/docker/docker', 'REFERENCE_INVALID'],
  ['docker///docker', 'REFERENCE_INVALID'],
  ['docker.io/docker/Docker', 'REFERENCE_INVALID'],
  ['docker.io/docker///docker', 'REFERENCE_INVALID'],
  ['[fc00::1]', 'REFERENCE_INVALID'],
  ['[fc00::1]:5000', 'REFERENCE_INVALID'],
  ['fc00::1:5000/debian', 'REFERENCE_INVALID'],
  ['[2001:db8:3:4::192.0.2.33]:5000/debian', 'REFERENCE_INVALID'],
  [HEX64, 'REFERENCE_INVALID'],
  ['docker-/docker', 'REFERENCE_INVALID'],
  ['-docker-/docker', 'REFERENCE_INVALID'],
  ['____/____', 'REFERENCE_INVALID'],
  ['_docker/_docker', 'REFERENCE_INVALID'],
  ['dock..er/docker', 'REFERENCE_INVALID'],
  ['dock_.er/docker', 'REFERENCE_INVALID'],
  ['dock-.er/docker', 'REFERENCE_INVALID'],
  ['docker/', 'REFERENCE_INVALID'],
  [`${'this_is_not_a_valid_namespace_because_its_length_is_greater_than_255_'.repeat(4)}x/docker`, 'REFERENCE_NAME_TOO_LONG'],
  ['foo:', 'REFERENCE_INVALID'],
  ['foo:.tag', 'REFERENCE_INVALID'],
  ['foo:-tag', 'REFERENCE_INVALID'],
  [`foo:${'t'.repeat(129)}`, 'REFERENCE_INVALID'],
  ['foo:a:b', 'REFERENCE_INVALID'],
  ['foo@', 'DIGEST_INVALID'],
  ['foo@sha256', 'DIGEST_INVALID'],
  [`foo@sha256:${F64}@${SHA}`, 'DIGEST_INVALID'],
  [`foo@1sha:${F64}`, 'DIGEST_INVALID'],
  [`foo@sha256:${'F'.repeat(64)}`, 'DIGEST_INVALID'],
  [`foo@sha256:${'f'.repeat(63)}`, 'DIGEST_INVALID'],
  [`foo@sha256:${'f'.repeat(65)}`, 'DIGEST_INVALID'],
  [`foo@sha512:${'f'.repeat(127)}`, 'DIGEST_INVALID'],
  [`foo@md5:${'f'.repeat(32)}`, 'DIGEST_UNSUPPORTED'],
  [`foo@SHA256:${F64}`, 'DIGEST_UNSUPPORTED'],
  ['foo@sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564', 'DIGEST_UNSUPPORTED'],
  [`foo@sha256:${'f'.repeat(300)}`, 'DIGEST_INVALID'],
  ['quay.io:0/app', 'REFERENCE_INVALID'],
  ['quay.io:65536/app', 'REFERENCE_INVALID'],
  ['quay.io:123456/app', 'REFERENCE_INVALID'],
  ['quay.io:/app', 'REFERENCE_INVALID'],
  ['quay.io:http/app', 'REFERENCE_INVALID'],
  ['quay.io./app', 'REFERENCE_INVALID'],
  ['foo_bar.com/app', 'REFERENCE_INVALID'],
  ['-quay.io/app', 'REFERENCE_INVALID'],
  ['[::1]x/app', 'REFERENCE_INVALID'],
  ['[::1/app', 'REFERENCE_INVALID'],
  [' nginx', 'REFERENCE_INVALID'],
  ['nginx ', 'REFERENCE_INVALID'],
  ['ngi\nnx', 'REFERENCE_INVALID'],
];

describe('parseReference', () => {
  describe('when given the valid references of the distribution grammar', () => {
    it.each(VALID)('parses %j', (input, registry, repository, tag, digest) => {
      expect(parts(parseReference(input))).toEqual({ registry, repository, name: `${registry}/${repository}`, tag, digest });
      expect(parseReference(input).original).toBe(input);
    });
  });

  describe('when given an invalid reference', () => {
    it.each(INVALID)('rejects %j with %s', (input, code) => {
      expect(codeOf(() => parseReference(input))).toBe(code);
    });

    it('rejects a value that is not a string with REFERENCE_INVALID', () => {
      for (const value of [undefined, null, 42, {}, ['nginx']]) {
        expect(codeOf(() => parseReference(value as never))).toBe('REFERENCE_INVALID');
      }
    });

    it('names the input and what is wrong in the message', () => {
      expect(() => parseReference('docker.io/docker/Docker')).toThrow(
        'invalid image reference "docker.io/docker/Docker": repository path "docker/Docker" must be lower-case',
      );
      expect(() => parseReference('foo@sha256:abc')).toThrow('invalid image reference "foo@sha256:abc": a sha256 digest has exactly 64 lower-case hex digits');
      expect(() => parseReference(`foo@sha512:${'f'.repeat(128)}`)).toThrow(/sha512 digests are not supported/);
    });

    it('escapes control characters and bounds the length of the quoted input', () => {
      const err = (() => {
        try {
          parseReference(`bad\nline${'x'.repeat(500)}`);
        } catch (e) {
          return e as Error;
        }
        throw new Error('no error');
      })();
      expect(err.message).toContain('"bad\\nline');
      expect(err.message).not.toContain('\n');
      expect(err.message).not.toContain('x'.repeat(250));
    });
  });

  describe('when the reference spells Docker Hub in any of its ways', () => {
    const spellings = [
      'nginx', 'library/nginx', 'docker.io/nginx', 'docker.io/library/nginx', 'index.docker.io/nginx',
      'index.docker.io/library/nginx', 'registry-1.docker.io/nginx', 'registry-1.docker.io/library/nginx',
      'DOCKER.IO/nginx', 'Index.Docker.Io/library/nginx', 'docker.io:443/nginx', 'registry-1.docker.io:443/library/nginx',
      'index.docker.io:0443/nginx',
    ];
    it.each(spellings)('normalizes %j to docker.io/library/nginx', (input) => {
      const ref = parseReference(`${input}:1.27`);
      expect(parts(ref)).toEqual({ registry: 'docker.io', repository: 'library/nginx', name: 'docker.io/library/nginx', tag: '1.27', digest: undefined });
    });

    it('keeps a user namespace without adding library/', () => {
      expect(parseReference('index.docker.io/bitnami/redis').name).toBe('docker.io/bitnami/redis');
      expect(parseReference('bitnami/redis').name).toBe('docker.io/bitnami/redis');
    });

    it('treats docker.io on another port as another registry', () => {
      expect(parts(parseReference('docker.io:5000/nginx'))).toMatchObject({ registry: 'docker.io:5000', repository: 'nginx' });
    });
  });

  describe('when the registry host has capitals', () => {
    it('lower-cases a host that reads as a host without them', () => {
      expect(parseReference('Quay.IO/org/app').name).toBe('quay.io/org/app');
      expect(parseReference('QUAY.IO:443/org/app').name).toBe('quay.io/org/app');
      expect(parseReference('LOCALHOST:5000/app').name).toBe('localhost:5000/app');
      expect(parseReference('[FC00::1]:5000/app').registry).toBe('[fc00::1]:5000');
      expect(parseReference('FOO:5000/bar').registry).toBe('foo:5000');
    });

    it('rejects a host told apart from a Docker Hub namespace only by its capitals with REFERENCE_INVALID', () => {
      // distribution accepts `Foo/bar` as host `Foo`; lower-cased it would read as docker.io/foo/bar.
      for (const input of ['Foo/bar', 'FOO/bar', 'Docker/docker', 'DOCKER/docker']) {
        expect(codeOf(() => parseReference(input))).toBe('REFERENCE_INVALID');
      }
    });

    it('rejects capitals in the path with REFERENCE_INVALID', () => {
      for (const input of ['quay.io/Org/app', 'localhost/App', 'docker.io/library/NGINX']) {
        expect(codeOf(() => parseReference(input))).toBe('REFERENCE_INVALID');
      }
    });
  });

  describe('when the registry has a port', () => {
    it.each([
      ['quay.io:443/app', 'quay.io'],
      ['quay.io:0443/app', 'quay.io'],
      ['quay.io:08080/app', 'quay.io:8080'],
      ['localhost:443/app', 'localhost'],
      ['[::1]:443/app', '[::1]'],
      ['foo:443/app', 'foo:443'],
      ['127.0.0.1:65535/app', '127.0.0.1:65535'],
    ])('normalizes %j to the registry %j', (input, registry) => {
      expect(parseReference(input).registry).toBe(registry);
    });
  });

  describe('when the name is near the 255-character limit', () => {
    it('accepts a normalized name of 255 characters', () => {
      expect(parseReference(`r.io/${'a'.repeat(250)}`).name).toHaveLength(255);
      expect(parseReference('x'.repeat(237)).name).toHaveLength(255);
    });

    it('counts the normalized name, so implicit docker.io/library/ counts too', () => {
      expect(codeOf(() => parseReference(`r.io/${'a'.repeat(251)}`))).toBe('REFERENCE_NAME_TOO_LONG');
      expect(codeOf(() => parseReference('x'.repeat(238)))).toBe('REFERENCE_NAME_TOO_LONG');
      expect(codeOf(() => parseReference(`${'a/'.repeat(400)}a`))).toBe('REFERENCE_NAME_TOO_LONG');
    });
  });

  describe('when formatted and parsed again', () => {
    it.each(VALID)('gives the same reference for %j', (input) => {
      const ref = parseReference(input);
      expect(parts(parseReference(formatReference(ref)))).toEqual(parts(ref));
    });

    it('formats a reference with both tag and digest as name:tag@digest', () => {
      expect(formatReference(parseReference(`nginx:1.27@${SHA}`))).toBe(`docker.io/library/nginx:1.27@${SHA}`);
      expect(formatReference(parseReference(`quay.io:443/a/b@${SHA}`))).toBe(`quay.io/a/b@${SHA}`);
      expect(formatReference(parseReference('nginx'))).toBe('docker.io/library/nginx:latest');
    });
  });
});
