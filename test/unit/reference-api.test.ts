import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SigwardError, type ErrorCode } from '../../src/errors.js';
import {
  apiHost,
  formatReference,
  isDigest,
  normalizeRegistry,
  parseReference,
  parseRepository,
  withDigest,
  type ImageReference,
} from '../../src/reference/index.js';

const FIXTURES = fileURLToPath(new URL('../fixtures', import.meta.url));
const F64 = 'f'.repeat(64);
const SHA = `sha256:${F64}`;

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

describe('parseReference', () => {
  describe('when the reference comes from a real cosign payload', () => {
    const payloads = [
      'legacy/sigstore-rs/busybox.payload.json',
      'legacy/containers-image/extracted/valid.signature-1.payload.json',
      'legacy/tobby-fetch-cosign-v3.0.4/payload.json',
      'legacy/sigstore-rs/suse-toolbox.payload.json',
    ];
    const claims = payloads.map((file) => {
      const payload = JSON.parse(readFileSync(`${FIXTURES}/${file}`, 'utf8'));
      return [payload.critical.identity['docker-reference'] as string, payload.critical.image['docker-manifest-digest'] as string] as const;
    });

    it.each(claims)('parses %s at its signed digest', (name, digest) => {
      const ref = parseReference(`${name}@${digest}`);
      expect(ref.name).toBe(name);
      expect(ref.digest).toBe(digest);
      expect(ref.tag).toBeUndefined();
    });

    it.each(claims)('rejects %s when its digest is upper-cased or cut short with DIGEST_INVALID', (name, digest) => {
      expect(codeOf(() => parseReference(`${name}@${digest.toUpperCase().replace('SHA256', 'sha256')}`))).toBe('DIGEST_INVALID');
      expect(codeOf(() => parseReference(`${name}@${digest.slice(0, -1)}`))).toBe('DIGEST_INVALID');
      expect(codeOf(() => parseReference(`${name}@${digest.replace('sha256', 'sha384')}`))).toBe('DIGEST_UNSUPPORTED');
    });
  });
});

describe('parseRepository', () => {
  it('normalizes a repository like a reference', () => {
    expect(parseRepository('index.docker.io/nginx')).toEqual({ registry: 'docker.io', repository: 'library/nginx', name: 'docker.io/library/nginx' });
    expect(parseRepository('Registry.Example.com:443/acme/signatures')).toEqual({
      registry: 'registry.example.com',
      repository: 'acme/signatures',
      name: 'registry.example.com/acme/signatures',
    });
    expect(parseRepository('localhost:5000/sigs').name).toBe('localhost:5000/sigs');
  });

  describe('when the repository carries a tag or a digest', () => {
    it.each(['quay.io/acme/sigs:v1', `quay.io/acme/sigs@${SHA}`, 'localhost:5000', 'nginx:latest'])('rejects %j with REFERENCE_INVALID', (input) => {
      expect(codeOf(() => parseRepository(input))).toBe('REFERENCE_INVALID');
    });
  });
});

describe('withDigest', () => {
  it('pins a reference to a digest and keeps its tag', () => {
    const pinned = withDigest(parseReference('quay.io/acme/app:v1'), SHA);
    expect(formatReference(pinned)).toBe(`quay.io/acme/app:v1@${SHA}`);
  });

  it('rejects a digest sigward cannot verify at', () => {
    const ref = parseReference('quay.io/acme/app:v1');
    expect(codeOf(() => withDigest(ref, 'sha256:abc'))).toBe('DIGEST_INVALID');
    expect(codeOf(() => withDigest(ref, `sha512:${'a'.repeat(128)}`))).toBe('DIGEST_UNSUPPORTED');
  });
});

describe('isDigest', () => {
  it('accepts only sha256 with 64 lower-case hex digits', () => {
    expect(isDigest(SHA)).toBe(true);
    expect(isDigest(SHA.toUpperCase())).toBe(false);
    expect(isDigest(`sha512:${'f'.repeat(128)}`)).toBe(false);
    expect(isDigest('sha256:')).toBe(false);
    expect(isDigest(F64)).toBe(false);
  });
});

describe('normalizeRegistry and apiHost', () => {
  it('normalizes hosts and maps Docker Hub to the host that serves its API', () => {
    expect(normalizeRegistry('Registry-1.Docker.IO:443')).toBe('docker.io');
    expect(normalizeRegistry('[::1]:5000')).toBe('[::1]:5000');
    expect(apiHost('docker.io')).toBe('registry-1.docker.io');
    expect(apiHost('quay.io')).toBe('quay.io');
    expect(apiHost('localhost:5000')).toBe('localhost:5000');
  });

  it('rejects what is not host[:port] with REFERENCE_INVALID', () => {
    for (const host of ['', 'quay.io:', 'quay.io:99999', 'a b', '[::1', 'https://quay.io', 'quay.io/x']) {
      expect(codeOf(() => normalizeRegistry(host))).toBe('REFERENCE_INVALID');
    }
  });
});

// Generators for the grammar's productions, so properties cover shapes a table misses.
const domainComponent = fc.stringMatching(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?$/);
const host = fc.oneof(
  fc.tuple(domainComponent, fc.array(domainComponent, { minLength: 1, maxLength: 3 })).map(([a, rest]) => [a, ...rest].join('.')),
  fc.constantFrom('localhost', 'LocalHost', '[::1]', '[2001:DB8::1]', 'index.docker.io', 'registry-1.docker.io', 'docker.io'),
);
const registry = fc.tuple(host, fc.option(fc.integer({ min: 1, max: 65535 }))).map(([h, p]) => (p === null ? h : `${h}:${p}`));
const pathComponent = fc.stringMatching(/^[a-z0-9]{1,6}(?:(?:[._]|__|-{1,3})[a-z0-9]{1,6}){0,2}$/);
const path = fc.array(pathComponent, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
const tag = fc.stringMatching(/^\w[\w.-]{0,20}$/);
const digest = fc.stringMatching(/^[a-f0-9]{64}$/).map((hex) => `sha256:${hex}`);
// Without a registry, a first component with a '.' would itself read as a registry host.
const validReference = fc
  .tuple(fc.option(registry), path, fc.option(tag), fc.option(digest))
  .filter(([r, p]) => r !== null || !(p.split('/')[0] ?? '').includes('.'))
  .map(([r, p, t, d]) => `${r === null ? '' : `${r}/`}${p}${t === null ? '' : `:${t}`}${d === null ? '' : `@${d}`}`);

const REFERENCE_CODES: readonly ErrorCode[] = ['REFERENCE_INVALID', 'REFERENCE_NAME_TOO_LONG', 'DIGEST_INVALID', 'DIGEST_UNSUPPORTED'];

describe('parseReference properties', () => {
  it('parses every generated valid reference, and formatting it parses back to the same reference', () => {
    fc.assert(
      fc.property(validReference, (input) => {
        const ref = parseReference(input);
        const again = parseReference(formatReference(ref));
        expect(parts(again)).toEqual(parts(ref));
        expect(formatReference(again)).toBe(formatReference(ref));
      }),
      { numRuns: 500 },
    );
  });

  it('throws nothing but reference errors for any string, and whatever parses round-trips', () => {
    const alphabet = fc.constantFrom(...'aZ09:/@._-[]%+ '.split(''), 'sha256:', F64);
    const nearValid = fc.array(alphabet, { maxLength: 12 }).map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), nearValid), (input) => {
        let ref: ImageReference;
        try {
          ref = parseReference(input);
        } catch (err) {
          expect(err).toBeInstanceOf(SigwardError);
          expect(REFERENCE_CODES).toContain((err as SigwardError).code);
          return;
        }
        expect(parts(parseReference(formatReference(ref)))).toEqual(parts(ref));
      }),
      { numRuns: 1000 },
    );
  });
});
