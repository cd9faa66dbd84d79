import { isSigwardError } from '../errors.js';
import { parseRepository } from '../reference/index.js';
import { NAMESPACE_NAME, OBJECT_NAME, child, isMapping, own, readList, readMapping, readString, readStringMap, type Fields } from './fields.js';
import { type KeyOptions, loadKey } from './keys.js';
import type { Problems } from './problems.js';
import { quote } from './problems.js';
import type { AuthoritySpec, KeySource } from './types.js';

const AUTHORITY_FIELDS = ['name', 'key', 'signatureRepository', 'annotations'] as const;
const MAX_AUTHORITIES = 32;
const MAX_PEM = 64 * 1024;
const AUTHORITY_NAME = {
  max: 63,
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  patternText: 'up to 63 of [A-Za-z0-9._-], starting and ending alphanumeric',
};
const SECRET_KEY = { max: 253, pattern: /^[-._a-zA-Z0-9]+$/, patternText: 'a Secret data key: [-._a-zA-Z0-9]' };

/** Reads `spec.authorities`: each names one key; names are unique, because verdicts and
 * messages are keyed by them. An authority without a name is called `authority-<index>`. */
export function readAuthorities(fields: Fields, problems: Problems, options: KeyOptions): readonly AuthoritySpec[] | undefined {
  const list = readList(fields, 'authorities', 'spec', problems, { required: true, max: MAX_AUTHORITIES });
  if (list === undefined) return undefined;
  const authorities = list.map((entry, i) => readAuthority(entry, i, problems, options));
  // Names as written, also of authorities with other problems, so all are reported at once.
  const firstIndex = new Map<string, number>();
  list.forEach((entry, i) => {
    const written = isMapping(entry) ? own(entry, 'name') : undefined;
    const name = typeof written === 'string' ? written : `authority-${i}`;
    const earlier = firstIndex.get(name);
    if (earlier === undefined) firstIndex.set(name, i);
    else problems.add(`spec.authorities[${i}].name`, `${quote(name)} is already the name of spec.authorities[${earlier}]`);
  });
  const valid = authorities.filter((a) => a !== undefined);
  return valid.length === list.length ? valid : undefined;
}

function readAuthority(value: unknown, i: number, problems: Problems, options: KeyOptions): AuthoritySpec | undefined {
  const path = `spec.authorities[${i}]`;
  const fields = readMapping(value, path, problems, AUTHORITY_FIELDS);
  if (fields === undefined) {
    if (value === undefined || value === null) problems.add(path, 'must be a mapping with a name and a key');
    return undefined;
  }
  const before = problems.count;
  const written = readString(fields, 'name', path, problems, AUTHORITY_NAME);
  const name = written ?? `authority-${i}`;
  const key = readKeySource(own(fields, 'key'), child(path, 'key'), problems, options);
  const signatureRepository = readString(fields, 'signatureRepository', path, problems, { max: 512 });
  if (signatureRepository !== undefined) {
    try {
      parseRepository(signatureRepository);
    } catch (err) {
      if (!isSigwardError(err)) throw err;
      problems.add(child(path, 'signatureRepository'), err.message);
    }
  }
  const annotations = readStringMap(own(fields, 'annotations'), child(path, 'annotations'), problems, {
    maxEntries: 64,
    key: { max: 253 },
    value: { max: 1024 },
  });
  if (problems.count !== before || key === undefined) return undefined;
  return { name, key, signatureRepository, annotations };
}

/** `key` holds exactly one of `data` (a PEM public key) and `secretRef`, and the key must load. */
function readKeySource(value: unknown, path: string, problems: Problems, options: KeyOptions): KeySource | undefined {
  const fields = readMapping(value, path, problems, ['data', 'secretRef']);
  if (fields === undefined) {
    if (value === undefined || value === null) problems.add(path, 'is required: set data (a PEM public key) or secretRef');
    return undefined;
  }
  const hasData = own(fields, 'data') != null;
  const hasRef = own(fields, 'secretRef') != null;
  if (hasData === hasRef) {
    problems.add(path, hasData ? 'set exactly one of data and secretRef, not both' : 'set exactly one of data (a PEM public key) and secretRef');
    return undefined;
  }
  let source: KeySource | undefined;
  if (hasData) {
    const data = readString(fields, 'data', path, problems, { required: true, max: MAX_PEM });
    source = data === undefined ? undefined : { data };
  } else {
    source = readSecretRef(own(fields, 'secretRef'), child(path, 'secretRef'), problems);
  }
  if (source === undefined) return undefined;
  const loaded = loadKey(source, options);
  if ('problem' in loaded) {
    problems.add(child(path, loaded.field), loaded.problem);
    return undefined;
  }
  return source;
}

function readSecretRef(value: unknown, path: string, problems: Problems): KeySource | undefined {
  const fields = readMapping(value, path, problems, ['name', 'namespace', 'key']);
  if (fields === undefined) return undefined;
  const name = readString(fields, 'name', path, problems, { ...OBJECT_NAME, required: true });
  const namespace = readString(fields, 'namespace', path, problems, { ...NAMESPACE_NAME, required: true });
  const key = readString(fields, 'key', path, problems, { ...SECRET_KEY, required: true });
  if (name === undefined || namespace === undefined || key === undefined) return undefined;
  return { secretRef: { name, namespace, key } };
}
