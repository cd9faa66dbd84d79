import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SigwardError } from '../../src/errors.js';
import { compileGlob, globProblem, matchGlob } from '../../src/policy/index.js';
import { parseReference, parseRepository } from '../../src/reference/index.js';

/** Whether `glob` matches the image, as policy matching does: on the parsed, normalized name. */
function matches(glob: string, image: string): boolean {
  return matchGlob(compileGlob(glob), parseReference(image).name);
}

// [glob, image, matches]
const TABLE: readonly (readonly [string, string, boolean])[] = [
  // `**` across segments, including none at the end; never past its fixed prefix
  ['registry.example.com/acme/**', 'registry.example.com/acme/app:v1', true],
  ['registry.example.com/acme/**', 'registry.example.com/acme/a/b', true],
  ['registry.example.com/acme/**', 'registry.example.com/acme', true],
  ['registry.example.com/acme/**', 'registry.example.com/acme-evil/app', false],
  ['registry.example.com/acme/**', 'registry.example.com/acmex', false],
  ['registry.example.com/acme/**', 'registry.example.com.evil.io/acme/app', false],
  ['registry.example.com/acme/**', 'evil.io/registry.example.com/acme/app', false],
  ['registry.example.com/acme/**', 'registry.example.com:5000/acme/app', false],
  ['registry.example.com/**/app', 'registry.example.com/app', true],
  ['registry.example.com/**/app', 'registry.example.com/a/app', true],
  ['registry.example.com/**/app', 'registry.example.com/a/b/app', true],
  ['registry.example.com/**/app', 'registry.example.com/a/xapp', false],
  ['registry.example.com/**/app', 'registry.example.com/app/x', false],
  ['registry.example.com/acme**', 'registry.example.com/acme-evil/app', true],
  ['registry.example.com/a/**/b/**', 'registry.example.com/a/x/b', true],
  ['registry.example.com/a/**/b/**', 'registry.example.com/a/b/c/d', true],
  ['registry.example.com/a/**/b/**', 'registry.example.com/a/c/d', false],
  // `*` within one segment, `?` one character other than `/`
  ['registry.example.com/acme/*', 'registry.example.com/acme/app', true],
  ['registry.example.com/acme/*', 'registry.example.com/acme/a/b', false],
  ['registry.example.com/acme/*', 'registry.example.com/acme', false],
  ['registry.example.com/*/app', 'registry.example.com/team/app', true],
  ['registry.example.com/*/app', 'registry.example.com/a/b/app', false],
  ['registry.example.com/acme/app-?', 'registry.example.com/acme/app-1', true],
  ['registry.example.com/acme/app-?', 'registry.example.com/acme/app-12', false],
  ['registry.example.com/acme?app', 'registry.example.com/acme/app', false],
  ['*.example.com/**', 'registry.example.com/acme/app', true],
  ['*.example.com/**', 'a.b.example.com/x', true],
  ['*.example.com/**', 'example.com/x', false],
  ['*.example.com/**', 'evil.io/x.example.com/y', false],
  // regex metacharacters are literal
  ['registry.example.com/acme/a.p', 'registry.example.com/acme/a.p', true],
  ['registry.example.com/acme/a.p', 'registry.example.com/acme/axp', false],
  ['registry.example.com/acme/app', 'registryxexample.com/acme/app', false],
  ['registry.example.com/acme/ap+', 'registry.example.com/acme/app', false],
  ['registry.example.com/acme/(app)', 'registry.example.com/acme/app', false],
  ['registry.example.com/acme/a[p]p', 'registry.example.com/acme/app', false],
  ['registry.example.com/acme/app|quay.io/x', 'registry.example.com/acme/app', false],
  ['registry.example.com/acme/.*', 'registry.example.com/acme/app', false],
  ['registry.example.com/acme/^app$', 'registry.example.com/acme/app', false],
  // Docker Hub in the glob, spelled every way
  ['nginx', 'nginx', true],
  ['library/nginx', 'nginx', true],
  ['docker.io/nginx', 'nginx', true],
  ['docker.io/library/nginx', 'nginx:1.27', true],
  ['index.docker.io/nginx', 'nginx', true],
  ['index.docker.io/library/nginx', 'nginx', true],
  ['registry-1.docker.io/library/nginx', 'nginx', true],
  ['DOCKER.IO/library/nginx', 'nginx', true],
  ['docker.io:443/nginx', 'nginx', true],
  ['nginx', 'bitnami/nginx', false],
  ['nginx', 'quay.io/nginx/nginx', false],
  ['nginx', 'docker.io:5000/nginx', false],
  // Docker Hub in the image, spelled every way
  ['docker.io/library/nginx', 'index.docker.io/nginx', true],
  ['docker.io/library/nginx', 'registry-1.docker.io/library/nginx', true],
  ['docker.io/library/nginx', 'Docker.IO:443/nginx', true],
  ['docker.io/library/nginx', 'library/nginx:latest', true],
  // Docker Hub wildcards
  ['index.docker.io/*', 'nginx', true],
  ['index.docker.io/*', 'bitnami/redis', false],
  ['index.docker.io/*/*', 'bitnami/redis', true],
  ['index.docker.io/*/*', 'nginx', true],
  ['docker.io/**', 'bitnami/redis', true],
  ['docker.io/**', 'nginx', true],
  ['docker.io/**', 'quay.io/acme/app', false],
  ['*', 'nginx', true],
  ['*', 'bitnami/redis', false],
  ['bitnami/*', 'index.docker.io/bitnami/redis', true],
  ['**', 'nginx', true],
  ['**', 'quay.io/acme/app', true],
  ['**', '[::1]:5000/acme/app', true],
  // hosts: case, ports, IPv6
  ['Registry.Example.COM/acme/**', 'registry.example.com/acme/app', true],
  ['registry.example.com/acme/**', 'REGISTRY.Example.com/acme/app', true],
  ['registry.example.com:443/acme/*', 'registry.example.com/acme/app', true],
  ['registry.example.com/acme/*', 'registry.example.com:443/acme/app', true],
  ['localhost:5000/*', 'localhost:5000/app', true],
  ['localhost:5000/*', 'localhost/app', false],
  ['localhost:5000/*', 'localhost:5001/app', false],
  ['[::1]:5000/acme/*', '[::1]:5000/acme/app', true],
  ['[::1]:5000/acme/*', '[::2]:5000/acme/app', false],
  ['[FC00::1]:5000/acme/*', '[fc00::1]:5000/acme/app', true],
];

describe('glob matching', () => {
  it.each(TABLE)('glob %j against %j is %j', (glob, image, expected) => {
    expect(matches(glob, image)).toBe(expected);
  });

  describe('when globs overlap', () => {
    it('matches an image that two globs of different breadth both cover', () => {
      const globs = ['registry.example.com/acme/**', 'registry.example.com/acme/app', 'registry.example.com/*/app'].map(compileGlob);
      const name = parseReference('registry.example.com/acme/app:v1').name;
      expect(globs.map((g) => matchGlob(g, name))).toEqual([true, true, true]);
      const other = parseReference('registry.example.com/team/app').name;
      expect(globs.map((g) => matchGlob(g, other))).toEqual([false, false, true]);
    });
  });

  it('normalizes the glob registry as references are normalized', () => {
    expect(compileGlob('nginx').normalized).toBe('docker.io/library/nginx');
    expect(compileGlob('library/nginx').normalized).toBe('docker.io/library/nginx');
    expect(compileGlob('bitnami/*').normalized).toBe('docker.io/bitnami/*');
    expect(compileGlob('Index.Docker.IO/*').normalized).toBe('docker.io/library/*');
    expect(compileGlob('docker.io/**').normalized).toBe('docker.io/**');
    expect(compileGlob('Quay.IO:443/acme/*').normalized).toBe('quay.io/acme/*');
    expect(compileGlob('**').normalized).toBe('**');
  });

  it('compiles to an anchored RegExp with metacharacters escaped', () => {
    expect(compileGlob('quay.io/a+b/(c)/**').regex.source).toBe('^quay\\.io\\/a\\+b\\/\\(c\\)(?:\\/.*)?$');
  });

  describe('when a glob is invalid', () => {
    it.each([
      ['', 'must not be empty'],
      [' ', 'must not contain spaces, control characters or non-ASCII characters'],
      ['quay.io/ acme', 'must not contain spaces, control characters or non-ASCII characters'],
      ['quay.io/acme\t', 'must not contain spaces, control characters or non-ASCII characters'],
      ['quay.io/äcme', 'must not contain spaces, control characters or non-ASCII characters'],
      ['quay.io/***', "'***' is not a wildcard: use * within a path segment or ** across segments"],
      ['quay.io/acme/app:v1', 'a glob matches repositories, which have no tag: remove the :tag'],
      ['nginx:latest', 'a glob matches repositories, which have no tag: remove the :tag'],
      [`quay.io/acme@sha256:${'a'.repeat(64)}`, 'a glob matches repositories, which have no digest: remove the @digest'],
      ['quay.io//acme', 'has an empty path segment, which no repository has'],
      ['quay.io/acme/', 'has an empty path segment, which no repository has'],
      ['quay.io/', 'has an empty path segment, which no repository has'],
      ['quay.io/Acme/*', 'repository paths are lower-case, so "Acme/*" would never match'],
      ['Acme/app', 'registry "Acme" is told apart from a Docker Hub namespace only by its capitals; write it with a domain or port'],
      ['quay.io:99999/x', 'invalid registry "quay.io:99999": port must be a number from 1 to 65535'],
      ['quay_io.com/x', 'invalid registry "quay_io.com": not a host name or IPv4 address'],
      ['x'.repeat(513), 'is 513 characters long (512 at most)'],
    ])('reports %j: %s', (glob, problem) => {
      expect(globProblem(glob)).toBe(problem);
      expect(() => compileGlob(glob)).toThrow(SigwardError);
    });
  });
});

// Generators: glob-shaped text over the characters that matter, and names built from them.
const globChar = fc.constantFrom('a', 'b', '.', '-', '/', '*', '**', '?', ':', '+', '(', ')', '[', ']', '$', '^', '|', '\\', 'A', '_');
const globText = fc.array(globChar, { minLength: 1, maxLength: 12 }).map((c) => c.join(''));
const nameChar = fc.constantFrom('a', 'b', '.', '-', '/', '_', ':', '+', '(', 'x');
const nameText = fc.array(nameChar, { maxLength: 20 }).map((c) => c.join(''));
const component = fc.stringMatching(/^[a-z0-9]{1,4}(?:[-._][a-z0-9]{1,3})?$/);
const repository = fc
  .tuple(fc.constantFrom('quay.io', 'registry.example.com', 'localhost:5000', '[::1]:5000', 'docker.io'), fc.array(component, { minLength: 1, maxLength: 3 }))
  .map(([registry, path]) => parseRepository(`${registry}/${path.join('/')}`));

describe('glob matching properties', () => {
  it('never throws, whatever the glob and name', () => {
    fc.assert(
      fc.property(globText, fc.oneof(nameText, fc.string()), (glob, name) => {
        const problem = globProblem(glob);
        if (problem !== undefined) return;
        expect(typeof matchGlob(compileGlob(glob), name)).toBe('boolean');
        expect(typeof matchGlob(compileGlob(glob), 'x'.repeat(5000))).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('matches exactly what its RegExp matches', () => {
    fc.assert(
      fc.property(globText, nameText, (glob, suffix) => {
        if (globProblem(glob) !== undefined) return;
        const compiled = compileGlob(glob);
        const filled = compiled.normalized.replace(/[*?]/g, 'a');
        const emptied = compiled.normalized.replace(/\/\*\*/g, '').replace(/[*?]/g, '');
        for (const candidate of [filled + suffix, emptied, emptied + suffix, suffix, compiled.normalized]) {
          expect(matchGlob(compiled, candidate)).toBe(compiled.regex.test(candidate));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('never lets `/**` match outside its fixed prefix', () => {
    fc.assert(
      fc.property(repository, nameText, fc.oneof(repository.map((r) => r.name), nameText), (prefix, suffix, other) => {
        const compiled = compileGlob(`${prefix.name}/**`);
        for (const name of [`${prefix.name}${suffix}`, other, `${prefix.name}-${suffix}`]) {
          if (matchGlob(compiled, name)) {
            expect(name === prefix.name || name.startsWith(`${prefix.name}/`)).toBe(true);
          }
        }
        expect(matchGlob(compiled, `${prefix.name}/${suffix || 'x'}`)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps a match of any glob inside the glob text before its first wildcard', () => {
    fc.assert(
      fc.property(globText, nameText, (glob, name) => {
        if (globProblem(glob) !== undefined) return;
        const compiled = compileGlob(glob);
        const fixed = compiled.normalized.split(/[*?]/)[0] ?? '';
        // A `/**` right after the fixed text may also match zero segments, slash included.
        const required = fixed.endsWith('/') && compiled.normalized.startsWith(`${fixed}**`) ? fixed.slice(0, -1) : fixed;
        for (const candidate of [name, fixed + name]) {
          if (matchGlob(compiled, candidate)) expect(candidate.startsWith(required)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('matches in time linear in the name, even for globs that make a backtracking RegExp explode', () => {
    const compiled = compileGlob('registry.example.com/*a*a*a*a*a*a*a*a*b/**/**/**/c');
    const name = `registry.example.com/${'a'.repeat(230)}`;
    const started = performance.now();
    for (let i = 0; i < 20; i++) expect(matchGlob(compiled, name)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
