import { describe, expect, it } from '@jest/globals';
import { decodeReview } from '../../src/admission/decode.js';
import { extractImages } from '../../src/admission/extract.js';
import { needsPin, patchFields, pinPatch, pinnedReference } from '../../src/admission/patch.js';
import { SigwardError } from '../../src/errors.js';
import { DIGEST_A, DIGEST_B, reviewOf } from './admission-fixtures.js';

function usesOf(kind: string) {
  return extractImages(decodeReview(reviewOf(kind)).request);
}

describe('pinPatch', () => {
  describe('when a Pod names tags', () => {
    it('replaces each tag with the image as written plus @digest, at its JSON pointer', () => {
      const pins = usesOf('Pod').map((use) => ({ use, digest: DIGEST_B }));
      expect(pinPatch(pins, { mutateWorkloads: false })).toEqual([
        { op: 'replace', path: '/spec/containers/0/image', value: `nginx:1.27@${DIGEST_B}` },
        { op: 'replace', path: '/spec/initContainers/0/image', value: `registry.example.com/acme/migrate:2.1@${DIGEST_B}` },
        { op: 'replace', path: '/spec/volumes/1/image/reference', value: `registry.example.com/acme/models:v3@${DIGEST_B}` },
      ]);
    });

    it('leaves a reference that already has a digest alone', () => {
      const pins = usesOf('Pod').map((use) => ({ use, digest: DIGEST_B }));
      const paths = pinPatch(pins, { mutateWorkloads: false }).map((op) => op.path);
      expect(paths).not.toContain('/spec/containers/1/image');
    });
  });

  describe('when the object is a Deployment', () => {
    it('pins nothing by default, so GitOps tools see no drift', () => {
      const pins = usesOf('Deployment').map((use) => ({ use, digest: DIGEST_B }));
      expect(pinPatch(pins, { mutateWorkloads: false })).toEqual([]);
    });

    it('pins the template with mutateWorkloads', () => {
      const pins = usesOf('CronJob').map((use) => ({ use, digest: DIGEST_B }));
      expect(pinPatch(pins, { mutateWorkloads: true })[0]).toEqual({
        op: 'replace',
        path: '/spec/jobTemplate/spec/template/spec/containers/0/image',
        value: `nginx:1.27@${DIGEST_B}`,
      });
    });
  });

  describe('when the resolved digest is not a digest', () => {
    it.each([
      ['an uppercase digest', `sha256:${'A'.repeat(64)}`],
      ['a short digest', 'sha256:abc'],
      ['an unknown algorithm', `md5:${'a'.repeat(32)}`],
      ['a digest with a JSON-breaking suffix', `${DIGEST_A}","op":"remove`],
    ])('refuses %s with DIGEST_INVALID', (_name, digest) => {
      const [use] = usesOf('Pod');
      const invalid = expect.objectContaining({ code: 'DIGEST_INVALID' });
      expect(() => pinPatch([{ use: use!, digest }], { mutateWorkloads: false })).toThrow(invalid);
      expect(() => pinnedReference('nginx:1.27', digest)).toThrow(SigwardError);
    });
  });
});

describe('needsPin', () => {
  it('selects pod images without a digest, and templates only with mutateWorkloads', () => {
    const [podUse] = usesOf('Pod');
    const [templateUse] = usesOf('Deployment');
    expect(needsPin(podUse!, { mutateWorkloads: false })).toBe(true);
    expect(needsPin(templateUse!, { mutateWorkloads: false })).toBe(false);
    expect(needsPin(templateUse!, { mutateWorkloads: true })).toBe(true);
    expect(needsPin({ ...podUse!, image: `nginx@${DIGEST_A}` }, { mutateWorkloads: true })).toBe(false);
  });
});

describe('patchFields', () => {
  it('encodes the operations as base64 JSON with patchType JSONPatch', () => {
    const operations = [{ op: 'replace' as const, path: '/spec/containers/0/image', value: `nginx:1.27@${DIGEST_A}` }];
    const fields = patchFields(operations);
    expect(fields.patchType).toBe('JSONPatch');
    expect(JSON.parse(Buffer.from(fields.patch!, 'base64').toString('utf8'))).toEqual(operations);
  });

  it('has no patch fields when there is nothing to pin', () => {
    expect(patchFields([])).toEqual({});
  });
});
