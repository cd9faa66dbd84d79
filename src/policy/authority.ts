import { isSigwardError } from '../errors.js';
import { parseRepository } from '../reference/index.js';
import { child, isMapping, own, readList, readMapping, readString, readStringMap, type Fields } from './fields.js';
import { readAttestations, readKeyless, readRekor } from './keyless.js';
import { type KeyOptions, loadKey } from './keys.js';
import type { Problems } from './problems.js';
import { quote } from './problems.js';
import { readSource } from './sources.js';
import type { AuthoritySpec, KeylessSpec, KeySource, RekorSpec } from './types.js';

const AUTHORITY_FIELDS = ['name', 'key', 'keyless', 'rekor', 'signatureRepository', 'signaturePullSecrets', 'annotations', 'attestations'] as const;
const MAX_PULL_SECRETS = 8;
const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MAX_AUTHORITIES = 32;
const MAX_PEM = 64 * 1024;
const AUTHORITY_NAME = {
  max: 63,
  pattern: /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/,
  patternText: 'up to 63 of [A-Za-z0-9._-], starting and ending alphanumeric',
};

/** Reads `spec.authorities`: each names one key or one keyless identity; names are unique,
 * because verdicts and messages are keyed by them. An authority without a name is called
 * `authority-<index>`. */
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
  const signer = readSigner(fields, path, problems, options);
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
  const attestations = readAttestations(fields, path, problems);
  const signaturePullSecrets = readPullSecrets(fields, path, problems);
  if (problems.count !== before || signer === undefined) return undefined;
  return { name, ...signer, signatureRepository, annotations, attestations, ...(signaturePullSecrets === undefined ? {} : { signaturePullSecrets }) };
}

/** `signaturePullSecrets: [{name}]`, as a pod's `imagePullSecrets`: Secrets in the policy's
 * namespace (a ClusterImagePolicy's: sigward's own) whose credentials read the signatures. */
function readPullSecrets(fields: Fields, path: string, problems: Problems): readonly string[] | undefined {
  const list = readList(fields, 'signaturePullSecrets', path, problems, { max: MAX_PULL_SECRETS });
  if (list === undefined) return undefined;
  const names: string[] = [];
  list.forEach((entry, i) => {
    const at = `${child(path, 'signaturePullSecrets')}[${i}]`;
    const item = readMapping(entry, at, problems, ['name']);
    if (item === undefined) return;
    const name = readString(item, 'name', at, problems, { required: true, max: 253, pattern: SECRET_NAME, patternText: 'a Secret name' });
    if (name === undefined) return;
    if (names.includes(name)) problems.add(child(at, 'name'), `${quote(name)} is listed twice`);
    else names.push(name);
  });
  return names;
}

type Signer = { readonly key: KeySource; readonly rekor: RekorSpec | undefined } | { readonly keyless: KeylessSpec };

/**
 * Exactly one of `key` and `keyless`: an authority that named both would leave it to sigward
 * which one to trust. `rekor` belongs to a key; a keyless identity's logs come from its trusted
 * root. An authority with neither is reported at `key`, the contract's field.
 */
function readSigner(fields: Fields, path: string, problems: Problems, options: KeyOptions): Signer | undefined {
  const hasKey = own(fields, 'key') != null;
  const hasKeyless = own(fields, 'keyless') != null;
  const hasRekor = own(fields, 'rekor') != null;
  if (hasKey && hasKeyless) problems.add(path, 'exactly one of key, keyless (found both)');
  const key = hasKeyless && !hasKey ? undefined : readKeySource(own(fields, 'key'), child(path, 'key'), problems, options);
  const keyless = hasKeyless ? readKeyless(own(fields, 'keyless'), child(path, 'keyless'), problems, options) : undefined;
  if (hasKeyless && hasRekor) {
    problems.add(child(path, 'rekor'), 'only a key authority takes one: a keyless authority\'s Rekor logs come from keyless.trustedRoot');
  }
  const rekor = hasKeyless ? undefined : readRekor(own(fields, 'rekor'), child(path, 'rekor'), problems);
  if (hasKey && hasKeyless) return undefined;
  if (keyless !== undefined) return { keyless };
  if (key !== undefined && (!hasRekor || rekor !== undefined)) return { key, rekor };
  return undefined;
}

/** `key` holds exactly one of `data` (a PEM public key) and `secretRef`, and the key must load. */
function readKeySource(value: unknown, path: string, problems: Problems, options: KeyOptions): KeySource | undefined {
  const source = readSource(value, path, problems, { what: 'a PEM public key', max: MAX_PEM });
  if (source === undefined) return undefined;
  const loaded = loadKey(source, options);
  // A Secret that is gone or holds no key is left to compilePolicy to revoke, when asked to.
  if ('problem' in loaded && !(loaded.revocable === true && options.revokeUnreadableSecrets === true)) {
    problems.add(child(path, loaded.field), loaded.problem);
    return undefined;
  }
  return source;
}
