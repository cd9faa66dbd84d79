/* eslint-disable @typescript-eslint/no-explicit-any -- the tests mutate untyped documents, as a user's YAML is untyped */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SigwardError } from '../../src/errors.js';
import { PolicyError, validatePolicy } from '../../src/policy/index.js';
import { FIXTURES, COSIGN_PUB, RSA_PUB, FULCIO_CERT, WHERE, clusterDoc, problemsOf } from './policy-fixtures.js';

const ENCRYPTED_PRIVATE_KEY = readFileSync(`${FIXTURES}/keys/sigstore-rs-ecdsa_encrypted_private.key`, 'utf8');

/** The real P-256 key with one base64 character of its curve point changed. */
function corruptedKey(): string {
  const lines = COSIGN_PUB.split('\n');
  const body = lines[2]!;
  lines[2] = `${body.slice(0, 10)}${body[10] === 'A' ? 'B' : 'A'}${body.slice(11)}`;
  return lines.join('\n');
}

describe('validatePolicy', () => {
  describe('when the document is a valid ClusterImagePolicy', () => {
    it('returns it typed with the defaults applied', () => {
      const spec = validatePolicy(clusterDoc(), WHERE);
      expect(spec).toEqual({
        kind: 'ClusterImagePolicy',
        name: 'acme-release',
        namespace: undefined,
        uid: undefined,
        generation: undefined,
        source: WHERE,
        images: ['registry.example.com/acme/**'],
        mode: 'enforce',
        threshold: 1,
        namespaceSelector: undefined,
        platforms: { mode: 'index', acceptChildOfSignedIndex: false },
        authorities: [{ name: 'release', key: { data: COSIGN_PUB }, signatureRepository: undefined, annotations: undefined }],
      });
    });

    it('accepts the object as the apiserver returns it, with status and server-set metadata', () => {
      const doc = clusterDoc();
      doc.metadata = { ...doc.metadata, uid: 'c0ffee', generation: 3, resourceVersion: '42', labels: { team: 'a' }, managedFields: [] };
      doc.status = { conditions: [{ type: 'Ready', status: 'True' }] };
      expect(validatePolicy(doc, WHERE)).toMatchObject({ uid: 'c0ffee', generation: 3 });
    });

    it('accepts RSA and ECDSA keys, mode, threshold, signatureRepository, annotations and a selector', () => {
      const doc = clusterDoc();
      doc.spec.mode = 'warn';
      doc.spec.threshold = 2;
      doc.spec.namespaceSelector = { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] };
      doc.spec.authorities.push({ name: 'rsa', key: { data: RSA_PUB }, signatureRepository: 'Registry.Example.com/acme/sigs', annotations: { env: 'prod' } });
      const spec = validatePolicy(doc, WHERE);
      expect(spec.mode).toBe('warn');
      expect(spec.threshold).toBe(2);
      expect(spec.authorities[1]).toEqual({ name: 'rsa', key: { data: RSA_PUB }, signatureRepository: 'Registry.Example.com/acme/sigs', annotations: { env: 'prod' } });
      expect(spec.namespaceSelector).toEqual({ matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] });
    });

    it('names an authority without a name by its index', () => {
      const doc = clusterDoc();
      doc.spec.authorities = [{ key: { data: COSIGN_PUB } }, { key: { data: RSA_PUB } }];
      expect(validatePolicy(doc, WHERE).authorities.map((a) => a.name)).toEqual(['authority-0', 'authority-1']);
    });
  });

  describe('when a document has many problems at once', () => {
    const doc = {
      apiVersion: 'sigward.dev/v1',
      kind: 'ClusterImagePolicy',
      metadata: { name: 'Acme_Release', namespace: 'team-a' },
      spec: {
        images: [{ glob: '' }, { glob: 'quay.io/***' }, 'nginx', { glob: 'nginx', tag: 'v1' }],
        mode: 'block',
        threshold: 5,
        authorities: [
          { name: 'release', key: { data: COSIGN_PUB } },
          { name: 'release', key: { data: 'not a key' } },
          { name: 'both', key: { data: RSA_PUB, secretRef: { name: 'keys', namespace: 'sigward-system', key: 'cosign.pub' } } },
          { name: 'secret', key: { secretRef: { name: 'keys', namespace: 'sigward-system', key: 'cosign.pub' } }, signatureRepository: 'quay.io/acme/sigs:v1' },
        ],
        threshhold: 2,
      },
      extra: true,
    };

    it('rejects with POLICY_INVALID listing every problem at its field path', () => {
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([
        'extra: unknown field (expected one of apiVersion, kind, metadata, spec, status)',
        'apiVersion: must be sigward.dev/v1alpha1, not "sigward.dev/v1"',
        'metadata.name: "Acme_Release" must be a DNS subdomain: lower-case letters, digits, - and .',
        'metadata.namespace: must not be set: a ClusterImagePolicy is cluster-scoped (use spec.namespaceSelector)',
        'spec.threshhold: unknown field (expected one of images, mode, threshold, namespaceSelector, platforms, authorities)',
        'spec.images[0].glob: must not be empty',
        `spec.images[1].glob: "quay.io/***": '***' is not a wildcard: use * within a path segment or ** across segments`,
        'spec.images[2]: must be a mapping with a glob, such as { glob: "registry.example.com/acme/**" }',
        'spec.images[3].tag: unknown field (expected one of glob)',
        'spec.mode: must be enforce, warn, audit, not "block"',
        'spec.authorities[1].key.data: not a PEM public key',
        'spec.authorities[2].key: set exactly one of data and secretRef, not both',
        'spec.authorities[3].key.secretRef: Secrets can only be read in a cluster',
        'spec.authorities[3].signatureRepository: invalid repository "quay.io/acme/sigs:v1": a repository takes no tag',
        'spec.authorities[1].name: "release" is already the name of spec.authorities[0]',
        'spec.threshold: must be a whole number from 1 to 4 (the number of authorities), got 5',
      ]);
    });

    it('prefixes each line of the message with where the document is', () => {
      let message = '';
      try {
        validatePolicy(doc, WHERE);
      } catch (err) {
        message = (err as Error).message;
      }
      const lines = message.split('\n');
      expect(lines).toHaveLength(16);
      expect(lines.every((line) => line.startsWith(`${WHERE}: `))).toBe(true);
      expect(lines).toContain(`${WHERE}: spec.threshold: must be a whole number from 1 to 4 (the number of authorities), got 5`);
    });

    it('is a SigwardError with code POLICY_INVALID', () => {
      expect(() => validatePolicy(doc, WHERE)).toThrow(SigwardError);
      try {
        validatePolicy(doc, WHERE);
      } catch (err) {
        expect((err as SigwardError).code).toBe('POLICY_INVALID');
      }
    });
  });

  describe('when a key is not a usable public key', () => {
    it.each([
      ['a certificate', FULCIO_CERT, 'not a PEM public key'],
      ['an encrypted cosign private key', ENCRYPTED_PRIVATE_KEY, 'not a PEM public key: this is a private key; give the public key (cosign.pub), which cosign generate-key-pair writes beside it'],
      ['the real key with its curve point corrupted', corruptedKey(), 'not a PEM public key'],
      ['the real key cut in half', COSIGN_PUB.slice(0, 80), 'not a PEM public key'],
      ['an empty string', '', 'must not be empty'],
    ])('rejects %s at spec.authorities[0].key.data', (_what, data, problem) => {
      const doc = clusterDoc();
      doc.spec.authorities[0].key.data = data;
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([`spec.authorities[0].key.data: ${problem}`]);
    });
  });

  describe('when the document shape is wrong', () => {
    it.each([
      ['not a mapping', 'just text', ['(document): must be a mapping with apiVersion, kind, metadata and spec, not a string']],
      ['a list', [1], ['(document): must be a mapping with apiVersion, kind, metadata and spec, not a list']],
      ['another kind', { ...clusterDoc(), kind: 'Pod' }, ['kind: must be ClusterImagePolicy or ImagePolicy, not "Pod"']],
      ['no metadata', { ...clusterDoc(), metadata: undefined }, ['metadata.name: is required']],
      ['no name', { ...clusterDoc(), metadata: {} }, ['metadata.name: is required']],
      ['a numeric name', { ...clusterDoc(), metadata: { name: 7 } }, ['metadata.name: must be a string, not a number']],
      ['no spec', { ...clusterDoc(), spec: undefined }, ['spec: is required']],
      ['spec a list', { ...clusterDoc(), spec: [] }, ['spec: must be a mapping']],
      ['an empty spec', { ...clusterDoc(), spec: {} }, [
        'spec.images: is required and must list at least one entry',
        'spec.authorities: is required and must list at least one entry',
      ]],
      ['a negative generation', { ...clusterDoc(), metadata: { name: 'a', generation: -1 } }, ['metadata.generation: must be a whole number, not -1']],
    ])('rejects %s', (_what, doc, problems) => {
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual(problems);
    });

    it('rejects a threshold that is not a whole number or is zero', () => {
      for (const threshold of [0, 1.5, -1]) {
        const doc = clusterDoc();
        doc.spec.threshold = threshold;
        expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([`spec.threshold: must be a whole number from 1 to 1 (the number of authorities), got ${threshold}`]);
      }
    });

    it('says a quoted threshold is a string, not that it is out of range', () => {
      const doc = clusterDoc();
      doc.spec.threshold = '1';
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual(['spec.threshold: must be a number, not a string (write it without quotes)']);
    });

    it('rejects a key with neither data nor secretRef, and an authority without a key', () => {
      const doc = clusterDoc();
      doc.spec.authorities = [{ name: 'a', key: {} }, { name: 'b' }, null];
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([
        'spec.authorities[0].key: set exactly one of data (a PEM public key) and secretRef',
        'spec.authorities[1].key: is required: set data (a PEM public key) or secretRef',
        'spec.authorities[2]: must be a mapping with a name and a key',
      ]);
    });

    it('reads a null field as an absent one', () => {
      const doc = clusterDoc();
      doc.spec.mode = null;
      doc.spec.threshold = null;
      doc.spec.namespaceSelector = null;
      expect(validatePolicy(doc, WHERE)).toMatchObject({ mode: 'enforce', threshold: 1, namespaceSelector: undefined });
      doc.spec.authorities[0].key = { data: null, secretRef: null };
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual(['spec.authorities[0].key: set exactly one of data (a PEM public key) and secretRef']);
    });

    it('keeps field names such as constructor and __proto__ from reaching Object.prototype', () => {
      const doc = clusterDoc();
      doc.spec.authorities[0].annotations = JSON.parse('{"__proto__": "x", "constructor": "y"}');
      const spec = validatePolicy(doc, WHERE);
      expect(Object.keys(spec.authorities[0]!.annotations ?? {})).toEqual(['__proto__', 'constructor']);
      const bad = clusterDoc();
      bad.spec = JSON.parse('{"constructor": 1}');
      expect(problemsOf(() => validatePolicy(bad, WHERE))).toContain(
        'spec.constructor: unknown field (expected one of images, mode, threshold, namespaceSelector, platforms, authorities)',
      );
    });
  });

  describe('when the policy is a namespaced ImagePolicy', () => {
    function imageDoc(): Record<string, any> {
      return { ...clusterDoc(), kind: 'ImagePolicy', metadata: { name: 'team-images', namespace: 'team-a' } };
    }

    it('keeps its namespace', () => {
      expect(validatePolicy(imageDoc(), WHERE)).toMatchObject({ kind: 'ImagePolicy', namespace: 'team-a' });
    });

    it('rejects a namespaceSelector and a missing namespace', () => {
      const doc = imageDoc();
      doc.metadata = { name: 'team-images' };
      doc.spec.namespaceSelector = {};
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([
        'metadata.namespace: is required: an ImagePolicy applies to the pods of its own namespace',
        'spec.namespaceSelector: only a ClusterImagePolicy has one: an ImagePolicy applies to its own namespace',
      ]);
    });
  });

  describe('when the namespaceSelector is malformed', () => {
    it('reports each requirement the apiserver would refuse', () => {
      const doc = clusterDoc();
      doc.spec.namespaceSelector = {
        matchLabels: { 'bad key!': 'x', env: 'not ok!' },
        matchExpressions: [
          { key: 'team', operator: 'In' },
          { key: 'team', operator: 'Exists', values: ['a'] },
          { key: 'team', operator: 'Near', values: ['a'] },
          { operator: 'Exists' },
        ],
        matchFields: [],
      };
      expect(problemsOf(() => validatePolicy(doc, WHERE))).toEqual([
        'spec.namespaceSelector.matchFields: unknown field (expected one of matchLabels, matchExpressions)',
        'spec.namespaceSelector.matchLabels["bad key!"]: is not a valid key (a label key: an optional DNS prefix and /, then up to 63 of [A-Za-z0-9._-])',
        'spec.namespaceSelector.matchLabels.env: "not ok!" must be a label value: up to 63 of [A-Za-z0-9._-], starting and ending alphanumeric',
        'spec.namespaceSelector.matchExpressions[0].values: must list at least one value for operator In',
        'spec.namespaceSelector.matchExpressions[1].values: must be empty for operator Exists',
        'spec.namespaceSelector.matchExpressions[2].operator: must be one of In, NotIn, Exists, DoesNotExist',
        'spec.namespaceSelector.matchExpressions[3].key: is required',
      ]);
    });
  });
});

// Fields of the valid document that the property below replaces with arbitrary JSON.
const FIELD_PATHS: readonly (readonly (string | number)[])[] = [
  ['apiVersion'], ['kind'], ['metadata'], ['metadata', 'name'], ['metadata', 'namespace'], ['metadata', 'generation'],
  ['spec'], ['spec', 'images'], ['spec', 'images', 0], ['spec', 'images', 0, 'glob'], ['spec', 'mode'], ['spec', 'threshold'],
  ['spec', 'namespaceSelector'], ['spec', 'authorities'], ['spec', 'authorities', 0], ['spec', 'authorities', 0, 'name'],
  ['spec', 'authorities', 0, 'key'], ['spec', 'authorities', 0, 'key', 'data'], ['spec', 'authorities', 0, 'key', 'secretRef'],
  ['spec', 'authorities', 0, 'annotations'], ['spec', 'authorities', 0, 'signatureRepository'],
];

function setAt(doc: Record<string, any>, path: readonly (string | number)[], value: unknown): void {
  let node: any = doc;
  for (const step of path.slice(0, -1)) {
    node = typeof node === 'object' && node !== null ? node[step] : undefined;
  }
  if (typeof node === 'object' && node !== null) node[path[path.length - 1]!] = value;
}

describe('validatePolicy properties', () => {
  it('accepts a mutated document or names at least one problem, and throws nothing but PolicyError', () => {
    const mutation = fc.tuple(fc.constantFrom(...FIELD_PATHS), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)));
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (mutations) => {
        const doc = clusterDoc();
        for (const [path, value] of mutations) setAt(doc, path, value);
        try {
          validatePolicy(doc, WHERE);
        } catch (err) {
          expect(err).toBeInstanceOf(PolicyError);
          expect((err as PolicyError).problems.length).toBeGreaterThan(0);
          expect((err as PolicyError).problems).not.toContain('(document): could not be read as a policy');
        }
      }),
      { numRuns: 1000 },
    );
  });
});
