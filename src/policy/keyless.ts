import { subjectPattern } from '../sigstore/index.js';
import { child, own, readList, readMapping, readString, type Fields } from './fields.js';
import type { KeyOptions } from './keys.js';
import { quote, type Problems } from './problems.js';
import { readSource } from './sources.js';
import { loadRekorKey, loadTrustedRoot } from './trust.js';
import type { AttestationSpec, KeylessSpec, RekorSpec } from './types.js';

const KEYLESS_FIELDS = ['issuer', 'subject', 'subjectRegExp', 'trustedRoot'] as const;
/** OIDC issuers and certificate subjects (URIs, e-mail addresses) are short; a page is plenty. */
const IDENTITY = { max: 1024 };
/** The public-good trusted root is about 20 KiB; one with many rotated keys stays far below this. */
export const MAX_TRUSTED_ROOT = 256 * 1024;
const MAX_PEM = 64 * 1024;
const PREDICATE_TYPE = { required: true, max: 512, pattern: /^\S+$/, patternText: 'a predicate type URI without spaces' };

/**
 * Reads `keyless` (sigward extension): the OIDC issuer exactly, exactly one of `subject` and
 * `subjectRegExp` (a pattern anchored to the whole subject, compiled now so a broken one refuses
 * the policy), and a trusted root that must parse; without one, the public-good root sigward
 * ships (never whichever Fulcio and Rekor a signature names).
 */
export function readKeyless(value: unknown, path: string, problems: Problems, options: KeyOptions): KeylessSpec | undefined {
  const fields = readMapping(value, path, problems, KEYLESS_FIELDS);
  if (fields === undefined) return undefined;
  const before = problems.count;
  const issuer = readString(fields, 'issuer', path, problems, { ...IDENTITY, required: true });
  const subject = readString(fields, 'subject', path, problems, { ...IDENTITY, required: false });
  const subjectRegExp = readString(fields, 'subjectRegExp', path, problems, IDENTITY);
  const hasSubject = own(fields, 'subject') != null;
  if (hasSubject === (own(fields, 'subjectRegExp') != null)) {
    problems.add(path, `exactly one of subject, subjectRegExp (${hasSubject ? 'found both' : 'neither is set'})`);
  }
  if (subject === '') problems.add(child(path, 'subject'), 'must not be empty');
  if (subjectRegExp !== undefined) checkPattern(subjectRegExp, child(path, 'subjectRegExp'), problems);
  const rootPath = child(path, 'trustedRoot');
  // Absent: the public-good trusted root sigward ships (compile-authority.ts).
  const trustedRoot = own(fields, 'trustedRoot') == null
    ? undefined
    : readSource(own(fields, 'trustedRoot'), rootPath, problems, { what: 'a trusted_root.json', max: MAX_TRUSTED_ROOT });
  if (trustedRoot !== undefined) {
    const loaded = loadTrustedRoot(trustedRoot, options);
    if ('problem' in loaded && !(loaded.revocable === true && options.revokeUnreadableSecrets === true)) {
      problems.add(child(rootPath, loaded.field), loaded.problem);
    }
  }
  if (problems.count !== before || issuer === undefined) return undefined;
  return { issuer, subject, subjectRegExp, trustedRoot };
}

/** Compiled exactly as it will be matched (anchored, Unicode), so what loads is what runs. */
function checkPattern(text: string, path: string, problems: Problems): void {
  try {
    subjectPattern(text);
  } catch {
    problems.add(path, `not a valid regular expression: ${quote(text)}`);
  }
}

/** Reads `rekor` (sigward extension): the PEM public key of the log a key authority's signatures must be in. */
export function readRekor(value: unknown, path: string, problems: Problems): RekorSpec | undefined {
  const fields = readMapping(value, path, problems, ['publicKey']);
  if (fields === undefined) return undefined;
  const publicKey = readString(fields, 'publicKey', path, problems, { required: true, max: MAX_PEM });
  if (publicKey === undefined) return undefined;
  const loaded = loadRekorKey(publicKey);
  if ('problem' in loaded) {
    problems.add(child(path, 'publicKey'), loaded.problem);
    return undefined;
  }
  return { publicKey };
}

/**
 * Reads `attestations` (sigward extension): the in-toto predicate type the authority must have
 * attested for the image. One per authority: a policy that needs a signature and several
 * attestations lists one authority for each and sets `threshold` to require them all.
 */
export function readAttestations(fields: Fields, path: string, problems: Problems): readonly AttestationSpec[] | undefined {
  const list = readList(fields, 'attestations', path, problems, { max: 16 });
  if (list === undefined) return undefined;
  const before = problems.count;
  if (list.length > 1) {
    problems.add(child(path, 'attestations'), 'lists more than one predicate type: list one authority per type and raise spec.threshold to require them all');
  }
  const attestations = list.flatMap((entry, i) => {
    const at = `${child(path, 'attestations')}[${i}]`;
    const entryFields = readMapping(entry, at, problems, ['predicateType']);
    if (entryFields === undefined) {
      if (entry === undefined || entry === null) problems.add(at, 'must be a mapping with a predicateType');
      return [];
    }
    const predicateType = readString(entryFields, 'predicateType', at, problems, PREDICATE_TYPE);
    return predicateType === undefined ? [] : [{ predicateType }];
  });
  return problems.count === before ? attestations : undefined;
}
