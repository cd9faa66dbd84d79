import { describe, expect, it } from '@jest/globals';
import { completeDecisions, denyAll } from '../../src/admission/complete.js';
import { decisionsAnswer, denyAnswer } from '../../src/admission/response.js';
import type { ImageAction, ImageDecision, ImageUse } from '../../src/admission/types.js';
import { DIGEST_A, DIGEST_B } from './admission-fixtures.js';

const UID = '705ab4f5-6393-11e8-b7cc-42010a800002';

function use(index: number, image = `registry.example.com/acme/app${index}:1.0`): ImageUse {
  return { path: `spec.containers[${index}].image`, pointer: `/spec/containers/${index}/image`, image, inPod: true };
}

function decision(index: number, action: ImageAction, reasons: string[] = []): ImageDecision {
  const u = use(index);
  return {
    use: u,
    action,
    reference: u.image,
    digest: index % 2 === 0 ? DIGEST_A : DIGEST_B,
    policies: ['ClusterImagePolicy/acme-release'],
    reasons,
  };
}

describe('decisionsAnswer', () => {
  describe('when every image is allowed', () => {
    it('admits with the uid and nothing else', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'allow'), decision(1, 'allow')]);
      expect(answer.verdict).toBe('allow');
      expect(answer.review).toEqual({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: UID, allowed: true } });
    });
  });

  describe('when an image is denied', () => {
    it('denies with 403 Forbidden naming path, reference, digest, policy and reason', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'allow'), decision(1, 'deny', ['no signature verifies with key release (NO_MATCHING_SIGNATURES)'])]);
      expect(answer.verdict).toBe('deny');
      const { response } = answer.review;
      expect(response.allowed).toBe(false);
      expect(response.status).toEqual({
        code: 403,
        reason: 'Forbidden',
        message:
          `spec.containers[1].image: image registry.example.com/acme/app1:1.0, digest ${DIGEST_B}, ` +
          'policy ClusterImagePolicy/acme-release: no signature verifies with key release (NO_MATCHING_SIGNATURES)',
      });
    });

    it('joins one line per denied image with "; "', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'deny', ['a']), decision(1, 'deny', ['b', 'c'])]);
      const message = answer.review.response.status!.message;
      expect(message.split('; ')).toHaveLength(2);
      expect(message).toContain('spec.containers[0].image');
      expect(message).toContain('spec.containers[1].image');
      expect(message).toContain(': b / c');
    });

    it('caps the message and counts the images left out', () => {
      const decisions = Array.from({ length: 60 }, (_, i) => decision(i, 'deny', ['x'.repeat(200)]));
      const message = decisionsAnswer(UID, decisions).review.response.status!.message;
      expect(message.length).toBeLessThanOrEqual(4096);
      expect(message).toMatch(/; and \d+ more$/);
      expect(decisionsAnswer(UID, decisions).denied).toHaveLength(60);
    });

    it('names no policy when none matched', () => {
      const unmatched = { ...decision(0, 'deny', ['no policy matches this image']), policies: [] };
      expect(decisionsAnswer(UID, [unmatched]).review.response.status!.message).toContain('policy (none)');
    });
  });

  describe('when the denied reference is 10,000 characters long', () => {
    it('cuts the echoed reference so the reason survives whole', () => {
      const long = `registry.example.com/${'a'.repeat(10_000)}:1.0`;
      const reason = 'ClusterImagePolicy acme-release (enforce): 0 of 1 authorities verified, 1 required; authority release: NO_SIGNATURES none found';
      const denied: ImageDecision = { ...decision(0, 'deny', [reason]), use: use(0, long), reference: long };
      const message = decisionsAnswer(UID, [denied]).review.response.status?.message ?? '';
      expect(message).toContain(reason);
      expect(message).toContain(`image registry.example.com/${'a'.repeat(100)}`);
      expect(message.length).toBeLessThan(1024);
    });

    it('cuts it in warnings too, keeping the reason', () => {
      const long = `registry.example.com/${'a'.repeat(10_000)}:1.0`;
      const warned: ImageDecision = { ...decision(0, 'warn', ['NO_SIGNATURES']), use: use(0, long), reference: long };
      const [warning] = decisionsAnswer(UID, [warned]).review.response.warnings ?? [];
      expect(warning).toMatch(/not verified \(ClusterImagePolicy\/acme-release\): NO_SIGNATURES$/);
    });
  });

  describe('when the reason already names the policy', () => {
    it('names it once, and the container beside the field path', () => {
      const reason = 'ClusterImagePolicy acme (enforce): 0 of 1 authorities verified, 1 required; authority release: NO_SIGNATURES none found';
      const denied: ImageDecision = { ...decision(0, 'deny', [reason]), use: { ...use(0), container: 'web' }, policies: ['ClusterImagePolicy acme'] };
      const message = decisionsAnswer(UID, [denied]).review.response.status?.message ?? '';
      expect(message).toBe(`spec.containers[0].image (container web): image registry.example.com/acme/app0:1.0, digest ${DIGEST_A}: ${reason}`);
    });
  });

  describe('when an image is in warn mode', () => {
    it('admits with one short warning per image', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'warn', ['no signatures found (NO_SIGNATURES)']), decision(1, 'allow')]);
      expect(answer.verdict).toBe('warn');
      expect(answer.review.response.allowed).toBe(true);
      expect(answer.review.response.warnings).toEqual([
        'sigward: spec.containers[0].image registry.example.com/acme/app0:1.0 not verified (ClusterImagePolicy/acme-release): no signatures found (NO_SIGNATURES)',
      ]);
    });

    it('keeps each warning within the 256 characters the API server passes on, and at most 15', () => {
      const decisions = Array.from({ length: 40 }, (_, i) => decision(i, 'warn', ['y'.repeat(400)]));
      const warnings = decisionsAnswer(UID, decisions).review.response.warnings!;
      expect(warnings).toHaveLength(15);
      for (const warning of warnings) expect(warning.length).toBeLessThanOrEqual(256);
      expect(warnings.at(-1)).toBe('sigward: and 26 more images not verified (warn mode)');
    });
  });

  describe('when an image is in audit mode', () => {
    it('admits silently with audit annotations keyed without a domain', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'audit', ['signature does not verify (SIGNATURE_INVALID)'])]);
      expect(answer.verdict).toBe('audit');
      expect(answer.review.response.allowed).toBe(true);
      expect(answer.review.response.warnings).toBeUndefined();
      const annotations = answer.review.response.auditAnnotations!;
      expect(Object.keys(annotations)).toEqual(['audit-0']);
      expect(annotations['audit-0']).toContain('spec.containers[0].image');
      expect(annotations['audit-0']).toContain('SIGNATURE_INVALID');
    });
  });

  describe('when deny, warn and audit mix', () => {
    it('denies, and still attaches the warnings and audit annotations', () => {
      const answer = decisionsAnswer(UID, [decision(0, 'warn', ['w']), decision(1, 'deny', ['d']), decision(2, 'audit', ['a'])]);
      const { response } = answer.review;
      expect(response.allowed).toBe(false);
      expect(response.status!.message).toContain('spec.containers[1].image');
      expect(response.status!.message).not.toContain('spec.containers[0].image');
      expect(response.warnings).toHaveLength(1);
      expect(Object.keys(response.auditAnnotations!)).toEqual(['audit-0']);
    });

    it('reports warn over audit when nothing is denied', () => {
      expect(decisionsAnswer(UID, [decision(0, 'audit', ['a']), decision(1, 'warn', ['w'])]).verdict).toBe('warn');
    });
  });

  describe('when a decision carries an action sigward does not know', () => {
    it('denies', () => {
      const odd = { ...decision(0, 'allow'), action: 'skip' as ImageAction };
      expect(decisionsAnswer(UID, [odd]).review.response.allowed).toBe(false);
    });
  });
});

describe('denyAnswer', () => {
  it('denies with the lines given', () => {
    expect(denyAnswer(UID, ['request.operation: must be one of CREATE']).review.response).toEqual({
      uid: UID,
      allowed: false,
      status: { code: 403, reason: 'Forbidden', message: 'request.operation: must be one of CREATE' },
    });
  });
});

describe('completeDecisions', () => {
  describe('when the evaluator leaves an image undecided or answers for another image', () => {
    it('denies those images', () => {
      const uses = [use(0), use(1), use(2)];
      const wrongImage = { ...decision(2, 'allow'), use: use(2, 'evil.example.com/other:1') };
      const complete = completeDecisions(uses, [decision(0, 'allow'), wrongImage]);
      expect(complete.map((d) => d.action)).toEqual(['allow', 'deny', 'deny']);
      expect(complete[1]!.reasons).toEqual(['no verification decision was made for this image']);
    });
  });

  it('keeps the order of the uses', () => {
    const uses = [use(0), use(1)];
    expect(completeDecisions(uses, [decision(1, 'warn'), decision(0, 'allow')]).map((d) => d.use.path)).toEqual([
      'spec.containers[0].image',
      'spec.containers[1].image',
    ]);
  });
});

describe('denyAll', () => {
  it('denies every use with the reason', () => {
    expect(denyAll([use(0), use(1)], 'timed out').every((d) => d.action === 'deny' && d.reasons[0] === 'timed out')).toBe(true);
  });
});
