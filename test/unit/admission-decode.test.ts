import { describe, expect, it } from '@jest/globals';
import { decodeEnvelope, decodeRequest, decodeReview } from '../../src/admission/decode.js';
import { SigwardError } from '../../src/errors.js';
import { deleteReview, ephemeralReview, mutated, reviewOf } from './admission-fixtures.js';

function failure(run: () => unknown): SigwardError {
  try {
    run();
  } catch (error) {
    if (error instanceof SigwardError) return error;
    throw error;
  }
  throw new Error('expected a SigwardError, got none');
}

describe('decodeReview', () => {
  describe('when the review is a Pod CREATE as the API server sends it', () => {
    it('narrows every field sigward reads', () => {
      const { apiVersion, request } = decodeReview(reviewOf('Pod'));
      expect(apiVersion).toBe('admission.k8s.io/v1');
      expect(request).toMatchObject({
        uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
        kind: { group: '', version: 'v1', kind: 'Pod' },
        resource: { group: '', version: 'v1', resource: 'pods' },
        subResource: undefined,
        namespace: 'team-a',
        name: 'web',
        operation: 'CREATE',
        dryRun: false,
      });
      expect(request.object).toMatchObject({ kind: 'Pod' });
    });
  });

  describe('when it is the pods/ephemeralcontainers subresource', () => {
    it('keeps the subresource and the whole Pod', () => {
      const { request } = decodeReview(ephemeralReview());
      expect(request.subResource).toBe('ephemeralcontainers');
      expect(request.operation).toBe('UPDATE');
    });
  });

  describe('when it is a DELETE with a null object', () => {
    it('accepts it with no object', () => {
      expect(decodeReview(deleteReview()).request.object).toBeUndefined();
    });
  });

  describe('when dryRun is true or absent', () => {
    it('reads true as true and absent as false', () => {
      expect(decodeReview(mutated(reviewOf('Pod'), 'request.dryRun', true)).request.dryRun).toBe(true);
      expect(decodeReview(mutated(reviewOf('Pod'), 'request.dryRun', undefined)).request.dryRun).toBe(false);
    });
  });

  describe('when the envelope cannot be addressed', () => {
    it.each([
      ['a JSON array', [reviewOf('Pod')], 'not a JSON object'],
      ['apiVersion v1beta1', mutated(reviewOf('Pod'), 'apiVersion', 'admission.k8s.io/v1beta1'), 'apiVersion'],
      ['another kind', mutated(reviewOf('Pod'), 'kind', 'TokenReview'), 'kind: must be AdmissionReview'],
      ['no request', mutated(reviewOf('Pod'), 'request', undefined), 'request: missing'],
      ['no uid', mutated(reviewOf('Pod'), 'request.uid', undefined), 'request.uid'],
      ['an empty uid', mutated(reviewOf('Pod'), 'request.uid', ''), 'request.uid'],
      ['a numeric uid', mutated(reviewOf('Pod'), 'request.uid', 42), 'request.uid'],
      ['a 129-character uid', mutated(reviewOf('Pod'), 'request.uid', 'u'.repeat(129)), 'longer than 128'],
    ])('rejects %s with REVIEW_INVALID naming the field', (_name, body, field) => {
      const error = failure(() => decodeEnvelope(body));
      expect(error.code).toBe('REVIEW_INVALID');
      expect(error.message).toContain(field);
    });

    it('reports every envelope problem at once', () => {
      const body = mutated(mutated(reviewOf('Pod'), 'apiVersion', 'v1'), 'request.uid', undefined);
      const message = failure(() => decodeEnvelope(body)).message;
      expect(message).toContain('apiVersion');
      expect(message).toContain('request.uid');
    });
  });

  describe('when a request field is malformed', () => {
    it.each([
      ['operation PATCH', 'request.operation', 'PATCH', 'request.operation'],
      ['dryRun "yes"', 'request.dryRun', 'yes', 'request.dryRun'],
      ['a numeric namespace', 'request.namespace', 7, 'request.namespace'],
      ['a missing kind', 'request.kind', undefined, 'request.kind.kind'],
      ['an empty kind name', 'request.kind.kind', '', 'request.kind.kind'],
      ['a numeric group', 'request.kind.group', 1, 'request.kind.group'],
      ['a missing resource version', 'request.resource.version', undefined, 'request.resource.version'],
      ['an object subResource', 'request.subResource', {}, 'request.subResource'],
      ['an overlong name', 'request.name', 'n'.repeat(254), 'request.name'],
      ['a CREATE with no object', 'request.object', null, 'request.object: missing'],
      ['an array object', 'request.object', [], 'request.object: not an object'],
      ['a string object', 'request.object', 'Pod', 'request.object: not an object'],
    ])('rejects %s with REVIEW_INVALID naming %s', (_name, path, value, field) => {
      const envelope = decodeEnvelope(mutated(reviewOf('Pod'), path, value));
      const error = failure(() => decodeRequest(envelope));
      expect(error.code).toBe('REVIEW_INVALID');
      expect(error.message).toContain(field);
    });

    it('reports every request problem at once', () => {
      const body = mutated(mutated(reviewOf('Pod'), 'request.operation', 'PATCH'), 'request.dryRun', 1);
      const message = failure(() => decodeReview(body)).message;
      expect(message).toContain('request.operation');
      expect(message).toContain('request.dryRun');
    });
  });
});
