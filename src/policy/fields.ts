import { isJsonObject, ownField } from '../fields.js';
import { type Problems, quote } from './problems.js';

/**
 * Readers for one field of a hostile document. Each reports what is wrong at the field's path
 * and returns `undefined`, so validation goes on and finds every other problem too. Values are
 * read as own properties only: a key such as `constructor` must not reach Object.prototype.
 */
export type Fields = Readonly<Record<string, unknown>>;

export function isMapping(value: unknown): value is Fields {
  return isJsonObject(value);
}

/** The path of a child field: `spec.images`, or `spec.annotations["a b"]` for an odd key. */
export function child(path: string, key: string): string {
  if (/^[A-Za-z_][\w-]*$/.test(key)) return path === '' ? key : `${path}.${key}`;
  return `${path}[${quote(key)}]`;
}

export function own(fields: Fields, key: string): unknown {
  return ownField(fields, key);
}

/** A mapping with only the `allowed` keys; each other key is reported as unknown (a misspelt
 * `threshhold` must not silently fall back to its default). */
export function readMapping(value: unknown, path: string, problems: Problems, allowed: readonly string[]): Fields | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value)) {
    problems.add(path, 'must be a mapping');
    return undefined;
  }
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) problems.add(child(path, key), `unknown field (expected one of ${allowed.join(', ')})`);
  }
  return value;
}

export interface StringRule {
  readonly required?: boolean;
  readonly max: number;
  readonly pattern?: RegExp;
  /** What the pattern asks for, in words. */
  readonly patternText?: string;
}

export function readString(fields: Fields, key: string, path: string, problems: Problems, rule: StringRule): string | undefined {
  const at = child(path, key);
  const value = own(fields, key);
  if (value === undefined || value === null) {
    if (rule.required === true) problems.add(at, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(at, `must be a string, not ${describeType(value)}`);
    return undefined;
  }
  if (value.length === 0 && rule.required === true) {
    problems.add(at, 'must not be empty');
    return undefined;
  }
  if (value.length > rule.max) {
    problems.add(at, `is ${value.length} characters long (${rule.max} at most)`);
    return undefined;
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    problems.add(at, `${quote(value)} must be ${rule.patternText ?? `of the form ${rule.pattern.source}`}`);
    return undefined;
  }
  return value;
}

/** A list of at most `max` entries; `required` also asks for at least one. */
export function readList(fields: Fields, key: string, path: string, problems: Problems, rule: { required?: boolean; max: number }): readonly unknown[] | undefined {
  const at = child(path, key);
  const value = own(fields, key);
  if (value === undefined || value === null) {
    if (rule.required === true) problems.add(at, 'is required and must list at least one entry');
    return undefined;
  }
  if (!Array.isArray(value)) {
    problems.add(at, `must be a list, not ${describeType(value)}`);
    return undefined;
  }
  if (value.length === 0 && rule.required === true) {
    problems.add(at, 'must list at least one entry');
    return undefined;
  }
  if (value.length > rule.max) {
    problems.add(at, `lists ${value.length} entries (${rule.max} at most)`);
    return undefined;
  }
  return value as readonly unknown[];
}

/** A string-to-string mapping, such as labels or annotations. */
export function readStringMap(
  value: unknown,
  path: string,
  problems: Problems,
  rule: { maxEntries: number; key: StringRule; value: StringRule },
): Readonly<Record<string, string>> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMapping(value)) {
    problems.add(path, `must be a mapping of strings, not ${describeType(value)}`);
    return undefined;
  }
  const keys = Object.keys(value);
  if (keys.length > rule.maxEntries) {
    problems.add(path, `has ${keys.length} entries (${rule.maxEntries} at most)`);
    return undefined;
  }
  const before = problems.count;
  const entries: [string, string][] = [];
  for (const key of keys) {
    if (key.length === 0 || key.length > rule.key.max || (rule.key.pattern !== undefined && !rule.key.pattern.test(key))) {
      problems.add(child(path, key), `is not a valid key (${rule.key.patternText ?? `1 to ${rule.key.max} characters`})`);
      continue;
    }
    if (own(value, key) === null) {
      problems.add(child(path, key), 'must be a string, not null');
      continue;
    }
    const entry = readString(value, key, path, problems, rule.value);
    if (entry !== undefined) entries.push([key, entry]);
  }
  // fromEntries defines own properties, so a key named __proto__ stays a plain key.
  return problems.count === before ? Object.fromEntries(entries) : undefined;
}

/** A value from the document, for a message. */
export function show(value: unknown): string {
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}

/** Kubernetes object names (metadata.name, Secret names): a DNS subdomain. */
export const OBJECT_NAME: StringRule = {
  max: 253,
  pattern: /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/,
  patternText: 'a DNS subdomain: lower-case letters, digits, - and .',
};

/** Kubernetes namespace names: a DNS label. */
export const NAMESPACE_NAME: StringRule = {
  max: 63,
  pattern: /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/,
  patternText: 'a DNS label: lower-case letters, digits and -',
};
