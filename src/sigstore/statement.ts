import { SigwardError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_TYPES } from './constants.js';
import { isObject, parseJson, type Problems } from './fields.js';
import type { DsseEnvelope, InTotoStatement, StatementSubject } from './types.js';

const MAX_SUBJECTS = 1024;

/**
 * Parses the in-toto statement a DSSE envelope carries (cosign-spec §1.7). Call it only after
 * the signature over the envelope verified: before that, the statement is an attacker's text.
 * Cosign requires the payload type to be in-toto; anything else is PAYLOAD_INVALID.
 */
export function parseStatement(envelope: DsseEnvelope): InTotoStatement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw new SigwardError('PAYLOAD_INVALID', `DSSE payload type is ${envelope.payloadType}, not ${IN_TOTO_PAYLOAD_TYPE}`);
  }
  const problems: Problems = [];
  const doc = parseJson(envelope.payload, '(statement)', problems);
  if (!isObject(doc)) {
    throw new SigwardError('PAYLOAD_INVALID', `payload is not an in-toto statement: ${problems.join('; ') || 'not an object'}`);
  }
  const type = doc._type;
  if (typeof type !== 'string' || !IN_TOTO_STATEMENT_TYPES.includes(type)) {
    problems.push(`_type: must be one of ${IN_TOTO_STATEMENT_TYPES.join(', ')}`);
  }
  if (typeof doc.predicateType !== 'string' || doc.predicateType === '') problems.push('predicateType: must be a non-empty string');
  const subjects = Array.isArray(doc.subject) && doc.subject.length > 0 && doc.subject.length <= MAX_SUBJECTS
    ? doc.subject.map((subject, index) => readSubject(subject, `subject[${index}]`, problems))
    : [];
  if (subjects.length === 0) problems.push(`subject: must be an array of 1 to ${MAX_SUBJECTS} subjects`);
  if (problems.length > 0) {
    throw new SigwardError('PAYLOAD_INVALID', `payload is not an in-toto statement: ${problems.join('; ')}`);
  }
  return { type: type as string, predicateType: doc.predicateType as string, subjects: subjects as StatementSubject[] };
}

function readSubject(value: unknown, path: string, problems: Problems): StatementSubject | undefined {
  if (!isObject(value)) {
    problems.push(`${path}: must be an object`);
    return undefined;
  }
  const digest = value.digest;
  if (!isObject(digest) || !Object.values(digest).every((hex) => typeof hex === 'string')) {
    problems.push(`${path}.digest: must map algorithms to hex strings`);
    return undefined;
  }
  const annotations = value.annotations ?? {};
  if (!isObject(annotations)) problems.push(`${path}.annotations: must be an object`);
  if (value.name !== undefined && typeof value.name !== 'string') problems.push(`${path}.name: must be a string`);
  return {
    ...(typeof value.name === 'string' ? { name: value.name } : {}),
    digest: digest as Record<string, string>,
    annotations: isObject(annotations) ? annotations : {},
  };
}

/**
 * Binds a verified statement to what is being admitted, as cosign's
 * `IntotoSubjectClaimVerifier` does: the first subject whose `digest.sha256` is the admitted
 * digest must carry every required annotation with the same value. A statement about another
 * image is CLAIM_MISMATCH: this is what stops image A's bundle from admitting image B.
 */
export function bindStatement(
  statement: InTotoStatement,
  sha256Hex: string,
  required: { readonly annotations?: Readonly<Record<string, string>>; readonly predicateType?: string },
): void {
  if (required.predicateType !== undefined && statement.predicateType !== required.predicateType) {
    throw new SigwardError('CLAIM_MISMATCH', `statement predicate type is ${statement.predicateType}, not ${required.predicateType}`);
  }
  const subject = statement.subjects.find((candidate) => candidate.digest.sha256 === sha256Hex);
  if (subject === undefined) {
    throw new SigwardError('CLAIM_MISMATCH', `statement names no subject with digest sha256:${sha256Hex}`);
  }
  for (const [key, value] of Object.entries(required.annotations ?? {})) {
    if (!Object.hasOwn(subject.annotations, key) || subject.annotations[key] !== value) {
      throw new SigwardError('ANNOTATION_MISMATCH', `subject annotation ${key} is not ${JSON.stringify(value)}`);
    }
  }
}
