import { NAMESPACE_NAME, OBJECT_NAME, child, own, readMapping, readString } from './fields.js';
import type { Problems } from './problems.js';
import type { SecretKeyRef } from './types.js';

const SECRET_KEY = { max: 253, pattern: /^[-._a-zA-Z0-9]+$/, patternText: 'a Secret data key: [-._a-zA-Z0-9]' };

/** Trust material written inline (`data`) or held in a Secret (`secretRef`). */
export type Source = { readonly data: string } | { readonly secretRef: SecretKeyRef };

export interface SourceRule {
  /** What `data` holds, for messages: `a PEM public key`. */
  readonly what: string;
  /** The longest `data` accepted. */
  readonly max: number;
}

/**
 * Reads a mapping that holds exactly one of `data` and `secretRef` (a key, a trusted root).
 * Both, or neither, is a problem at `path`: a document that names two sources must not have
 * one of them chosen silently.
 */
export function readSource(value: unknown, path: string, problems: Problems, rule: SourceRule): Source | undefined {
  const fields = readMapping(value, path, problems, ['data', 'secretRef']);
  if (fields === undefined) {
    if (value === undefined || value === null) problems.add(path, `is required: set data (${rule.what}) or secretRef`);
    return undefined;
  }
  const hasData = own(fields, 'data') != null;
  const hasRef = own(fields, 'secretRef') != null;
  if (hasData === hasRef) {
    problems.add(path, hasData ? 'set exactly one of data and secretRef, not both' : `set exactly one of data (${rule.what}) and secretRef`);
    return undefined;
  }
  if (hasData) {
    const data = readString(fields, 'data', path, problems, { required: true, max: rule.max });
    return data === undefined ? undefined : { data };
  }
  return readSecretRef(own(fields, 'secretRef'), child(path, 'secretRef'), problems);
}

function readSecretRef(value: unknown, path: string, problems: Problems): Source | undefined {
  const fields = readMapping(value, path, problems, ['name', 'namespace', 'key']);
  if (fields === undefined) return undefined;
  const name = readString(fields, 'name', path, problems, { ...OBJECT_NAME, required: true });
  const namespace = readString(fields, 'namespace', path, problems, { ...NAMESPACE_NAME, required: true });
  const key = readString(fields, 'key', path, problems, { ...SECRET_KEY, required: true });
  if (name === undefined || namespace === undefined || key === undefined) return undefined;
  return { secretRef: { name, namespace, key } };
}
