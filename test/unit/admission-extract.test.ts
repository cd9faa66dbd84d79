import { describe, expect, it } from '@jest/globals';
import { decodeReview } from '../../src/admission/decode.js';
import { extractImages } from '../../src/admission/extract.js';
import type { ImageUse } from '../../src/admission/types.js';
import { SigwardError, type ErrorCode } from '../../src/errors.js';
import { DIGEST_A, deleteReview, ephemeralReview, mutated, reviewOf, type Doc } from './admission-fixtures.js';

function extract(review: Doc, maxImages?: number): ImageUse[] {
  return extractImages(decodeReview(review).request, maxImages === undefined ? {} : { maxImages });
}

function failure(review: Doc, maxImages?: number): { code: ErrorCode; message: string } {
  try {
    extract(review, maxImages);
  } catch (error) {
    if (error instanceof SigwardError) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a SigwardError, got none');
}

/** The five images of `podSpec()` under `prefix` (a dotted path to the pod spec). */
function expectedUses(prefix: string, inPod: boolean): ImageUse[] {
  const pointer = '/' + prefix.split('.').join('/');
  return [
    { path: `${prefix}.containers[0].image`, pointer: `${pointer}/containers/0/image`, image: 'nginx:1.27', inPod, container: 'web' },
    {
      path: `${prefix}.containers[1].image`,
      pointer: `${pointer}/containers/1/image`,
      image: `registry.example.com/acme/proxy@${DIGEST_A}`,
      inPod,
      container: 'sidecar',
    },
    {
      path: `${prefix}.initContainers[0].image`,
      pointer: `${pointer}/initContainers/0/image`,
      image: 'registry.example.com/acme/migrate:2.1',
      inPod,
      container: 'migrate',
    },
    {
      path: `${prefix}.volumes[1].image.reference`,
      pointer: `${pointer}/volumes/1/image/reference`,
      image: 'registry.example.com/acme/models:v3',
      inPod,
    },
  ];
}

describe('extractImages', () => {
  describe('when the object is a Pod', () => {
    it('lists containers, init containers and image volumes with paths and pointers, in the pod', () => {
      expect(extract(reviewOf('Pod'))).toEqual(expectedUses('spec', true));
    });
  });

  describe.each([
    ['Deployment', 'spec.template.spec'],
    ['ReplicaSet', 'spec.template.spec'],
    ['StatefulSet', 'spec.template.spec'],
    ['DaemonSet', 'spec.template.spec'],
    ['Job', 'spec.template.spec'],
    ['ReplicationController', 'spec.template.spec'],
    ['CronJob', 'spec.jobTemplate.spec.template.spec'],
    ['PodTemplate', 'template.spec'],
  ])('when the object is a %s', (kind, prefix) => {
    it(`lists every image under ${prefix}, not in a pod`, () => {
      expect(extract(reviewOf(kind))).toEqual(expectedUses(prefix, false));
    });
  });

  describe('when kubectl debug adds an ephemeral container (pods/ephemeralcontainers)', () => {
    it('checks the ephemeral container too', () => {
      const uses = extract(ephemeralReview());
      expect(uses).toContainEqual({
        path: 'spec.ephemeralContainers[0].image',
        pointer: '/spec/ephemeralContainers/0/image',
        image: 'busybox:1.36',
        inPod: true,
        container: 'debugger-x7k2',
      });
    });
  });

  describe('when an old API server sends the EphemeralContainers kind', () => {
    it('reads the top-level ephemeralContainers list', () => {
      const review = mutated(reviewOf('Pod'), 'request.kind.kind', 'EphemeralContainers');
      const withList = mutated(review, 'request.object', {
        apiVersion: 'v1',
        kind: 'EphemeralContainers',
        ephemeralContainers: [{ name: 'debugger', image: 'busybox:1.36' }],
      });
      expect(extract(withList)).toEqual([
        { path: 'ephemeralContainers[0].image', pointer: '/ephemeralContainers/0/image', image: 'busybox:1.36', inPod: true, container: 'debugger' },
      ]);
    });
  });

  describe('when the kind is not one the webhook is registered for', () => {
    it.each([
      ['a ConfigMap', reviewOf('ConfigMap')],
      ['a Deployment of another API group', mutated(reviewOf('Deployment'), 'request.kind.group', 'example.com')],
      ['a Pod of the apps group', mutated(reviewOf('Pod'), 'request.kind.group', 'apps')],
      ['a kind named after an Object.prototype member', mutated(reviewOf('Pod'), 'request.kind.kind', 'constructor')],
    ])('yields no images for %s', (_name, review) => {
      expect(extract(review)).toEqual([]);
    });
  });

  describe('when the operation is DELETE', () => {
    it('yields no images', () => {
      expect(extract(deleteReview())).toEqual([]);
    });
  });

  describe('when a container image cannot be read', () => {
    it.each([
      ['missing', 'request.object.spec.containers.0.image', undefined, 'spec.containers[0].image'],
      ['a number', 'request.object.spec.initContainers.0.image', 7, 'spec.initContainers[0].image'],
      ['empty', 'request.object.spec.containers.1.image', '', 'spec.containers[1].image'],
      ['an entry that is a string', 'request.object.spec.containers.0', 'nginx', 'spec.containers[0]'],
      ['a list that is an object', 'request.object.spec.containers', { web: { image: 'nginx' } }, 'spec.containers: not a list'],
      ['an image volume without reference', 'request.object.spec.volumes.1.image.reference', undefined, 'spec.volumes[1].image.reference'],
      ['an image volume that is a string', 'request.object.spec.volumes.1.image', 'nginx', 'spec.volumes[1].image'],
      ['a pod without spec', 'request.object.spec', undefined, 'spec: missing'],
    ])('fails closed with REVIEW_INVALID when it is %s', (_name, path, value, field) => {
      const { code, message } = failure(mutated(reviewOf('Pod'), path, value));
      expect(code).toBe('REVIEW_INVALID');
      expect(message).toContain(field);
    });

    it('names the template path of a CronJob', () => {
      const review = mutated(reviewOf('CronJob'), 'request.object.spec.jobTemplate.spec.template.spec.containers.0.image', null);
      expect(failure(review).message).toContain('spec.jobTemplate.spec.template.spec.containers[0].image');
    });

    it('reports every unreadable image at once', () => {
      const review = mutated(mutated(reviewOf('Pod'), 'request.object.spec.containers.0.image', 1), 'request.object.spec.initContainers.0.image', 2);
      const { message } = failure(review);
      expect(message).toContain('spec.containers[0].image');
      expect(message).toContain('spec.initContainers[0].image');
    });
  });

  describe('when the object names more images than the limit', () => {
    it('rejects with REVIEW_TOO_LARGE naming the limit', () => {
      const containers = Array.from({ length: 9 }, (_, i) => ({ name: `c${i}`, image: `nginx:1.${i}` }));
      const review = mutated(reviewOf('Pod'), 'request.object.spec.containers', containers);
      expect(extract(review, 12)).toHaveLength(11);
      const { code, message } = failure(review, 10);
      expect(code).toBe('REVIEW_TOO_LARGE');
      expect(message).toContain('11 images, more than the limit of 10');
    });
  });
});
