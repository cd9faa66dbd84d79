import { SigwardError } from '../errors.js';
import { ADMISSION, ADMISSION_LIMITS } from './constants.js';
import { isJsonObject, ownField, Problems, type JsonObject } from '../fields.js';
import type { ReviewRequest } from './types.js';

/** The part of a review without which no answer can be addressed (docs/design.md §3: HTTP 400). */
export interface ReviewEnvelope {
  readonly apiVersion: string;
  readonly uid: string;
  readonly request: JsonObject;
}

const OPERATIONS: readonly ReviewRequest['operation'][] = ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'];

/**
 * Checks `apiVersion`, `kind` and `request.uid`. Only admission.k8s.io/v1 is spoken: the
 * webhook configurations list it alone in `admissionReviewVersions`.
 */
export function decodeEnvelope(body: unknown): ReviewEnvelope {
  if (!isJsonObject(body)) throw invalid('the body is not a JSON object');
  const problems = new Problems();
  const apiVersion = ownField(body, 'apiVersion');
  if (apiVersion !== ADMISSION.apiVersion) problems.add('apiVersion', `must be ${ADMISSION.apiVersion}`);
  if (ownField(body, 'kind') !== ADMISSION.kind) problems.add('kind', `must be ${ADMISSION.kind}`);
  const request = ownField(body, 'request');
  let uid: unknown;
  if (!isJsonObject(request)) {
    problems.add('request', 'missing or not an object');
  } else {
    uid = ownField(request, 'uid');
    if (typeof uid !== 'string' || uid === '') problems.add('request.uid', 'missing or not a non-empty string');
    else if (uid.length > ADMISSION_LIMITS.maxUidLength) {
      problems.add('request.uid', `longer than ${ADMISSION_LIMITS.maxUidLength} characters`);
    }
  }
  if (problems.count > 0 || !isJsonObject(request) || typeof uid !== 'string') throw invalid(problems.summary());
  return { apiVersion: ADMISSION.apiVersion, uid, request };
}

/** Narrows every request field sigward reads; all problems are reported at once. */
export function decodeRequest(envelope: ReviewEnvelope): ReviewRequest {
  const raw = envelope.request;
  const problems = new Problems();
  const operation = ownField(raw, 'operation');
  if (!OPERATIONS.includes(operation as ReviewRequest['operation'])) {
    problems.add('request.operation', `must be one of ${OPERATIONS.join(', ')}`);
  }
  const dryRun = ownField(raw, 'dryRun') ?? false;
  if (typeof dryRun !== 'boolean') problems.add('request.dryRun', 'not a boolean');

  const request: ReviewRequest = {
    uid: envelope.uid,
    kind: {
      group: text(raw, 'kind', 'group', problems, true),
      version: text(raw, 'kind', 'version', problems),
      kind: text(raw, 'kind', 'kind', problems),
    },
    resource: {
      group: text(raw, 'resource', 'group', problems, true),
      version: text(raw, 'resource', 'version', problems),
      resource: text(raw, 'resource', 'resource', problems),
    },
    subResource: optionalText(raw, 'subResource', problems),
    namespace: optionalText(raw, 'namespace', problems),
    name: optionalText(raw, 'name', problems),
    operation: operation as ReviewRequest['operation'],
    dryRun: dryRun === true,
    object: decodeObject(raw, operation, problems),
    oldObject: operation === 'UPDATE' ? decodeOldObject(raw, problems) : undefined,
  };
  if (problems.count > 0) throw invalid(problems.summary());
  return request;
}

export function decodeReview(body: unknown): { apiVersion: string; request: ReviewRequest } {
  const envelope = decodeEnvelope(body);
  return { apiVersion: envelope.apiVersion, request: decodeRequest(envelope) };
}

/**
 * The object under review must be a JSON object. Only DELETE (the object is gone; the API
 * server sends `oldObject`) and CONNECT may omit it: a CREATE without one cannot be checked.
 */
function decodeObject(raw: JsonObject, operation: unknown, problems: Problems): JsonObject | undefined {
  const object = ownField(raw, 'object');
  if (isJsonObject(object)) return object;
  const absent = object === undefined || object === null;
  if (absent && (operation === 'DELETE' || operation === 'CONNECT')) return undefined;
  problems.add('request.object', absent ? 'missing' : 'not an object');
  return undefined;
}

/**
 * The object before an UPDATE. The API server always sends it; when it is absent, every image
 * of the object counts as new (nothing is assumed to have run before).
 */
function decodeOldObject(raw: JsonObject, problems: Problems): JsonObject | undefined {
  const old = ownField(raw, 'oldObject');
  if (old === undefined || old === null) return undefined;
  if (!isJsonObject(old)) {
    problems.add('request.oldObject', 'not an object');
    return undefined;
  }
  return old;
}

/** A string of the group/version/kind triples; the core group is the empty string. */
function text(raw: JsonObject, parent: string, key: string, problems: Problems, emptyOk = false): string {
  const holder = ownField(raw, parent);
  const value = isJsonObject(holder) ? ownField(holder, key) : undefined;
  if (typeof value !== 'string' || (!emptyOk && value === '')) {
    problems.add(`request.${parent}.${key}`, emptyOk ? 'missing or not a string' : 'missing or not a non-empty string');
    return '';
  }
  if (value.length > ADMISSION_LIMITS.maxNameLength) {
    problems.add(`request.${parent}.${key}`, `longer than ${ADMISSION_LIMITS.maxNameLength} characters`);
  }
  return value;
}

/** Optional strings; Kubernetes omits empty ones, so `''` reads as absent. */
function optionalText(raw: JsonObject, key: string, problems: Problems): string | undefined {
  const value = ownField(raw, key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') {
    problems.add(`request.${key}`, 'not a string');
    return undefined;
  }
  if (value.length > ADMISSION_LIMITS.maxNameLength) {
    problems.add(`request.${key}`, `longer than ${ADMISSION_LIMITS.maxNameLength} characters`);
  }
  return value;
}

function invalid(detail: string): SigwardError {
  return new SigwardError('REVIEW_INVALID', `AdmissionReview is invalid: ${detail}`);
}
