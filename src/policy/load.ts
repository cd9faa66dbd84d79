import { open } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { describeError, isSigwardError } from '../errors.js';
import { parsePolicy } from './compile.js';
import { isMapping, own } from './fields.js';
import { PolicyError } from './problems.js';
import type { CompiledPolicy } from './types.js';
import type { PolicyOptions } from './validate.js';

const MAX_FILE_BYTES = 1024 * 1024;
/** YAML aliases can expand a small file into a huge value (billion laughs); few are allowed. */
const MAX_ALIASES = 100;

/**
 * Reads policy files (YAML, several documents per file; empty documents skipped) and compiles
 * every policy in them. Problems from all files and documents are collected and thrown
 * together as one PolicyError: FILE_UNREADABLE when a file cannot be read, else POLICY_INVALID.
 * Two policies of the same kind and name (and namespace) are a problem too: in a cluster they
 * would be one object, so which of them applies must not depend on file order.
 */
export async function loadPolicyFiles(paths: readonly string[], options: PolicyOptions = {}): Promise<CompiledPolicy[]> {
  const lines: string[] = [];
  let unreadable = false;
  const policies: CompiledPolicy[] = [];
  for (const path of paths) {
    const text = await readText(path).catch((err: unknown) => {
      unreadable = true;
      lines.push(`${path}: cannot be read: ${describeError(err)}`);
      return undefined;
    });
    if (text === undefined) continue;
    const parsed = parsePolicyText(text, path, options);
    policies.push(...parsed.policies);
    lines.push(...parsed.problems);
  }
  lines.push(...duplicates(policies));
  if (lines.length > 0) throw new PolicyError(unreadable ? 'FILE_UNREADABLE' : 'POLICY_INVALID', lines.join('\n'), lines);
  return policies;
}

/** The policies of one YAML text, and one line per problem (`file#N (Kind name): path: …`). */
export function parsePolicyText(text: string, file: string, options: PolicyOptions = {}): { policies: CompiledPolicy[]; problems: string[] } {
  const policies: CompiledPolicy[] = [];
  const problems: string[] = [];
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  const list = Array.isArray(documents) ? documents : [];
  list.forEach((document, i) => {
    const location = `${file}#${i + 1}`;
    if (document.errors.length > 0) {
      // The first line of each error says what and where ("… at line 3, column 1:").
      problems.push(...document.errors.map((err) => `${location}: not YAML: ${(err.message.split('\n')[0] ?? '').replace(/:$/, '')}`));
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (err) {
      problems.push(`${location}: not usable YAML: ${describeError(err)}`);
      return;
    }
    if (value === null || value === undefined) return;
    try {
      policies.push(parsePolicy(value, `${location}${label(value)}`, options));
    } catch (err) {
      if (err instanceof PolicyError) problems.push(...err.message.split('\n'));
      else if (isSigwardError(err)) problems.push(`${location}: ${err.message}`);
      else throw err;
    }
  });
  return { policies, problems };
}

async function readText(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw new Error(`it is ${size} bytes (${MAX_FILE_BYTES} at most)`);
    return await handle.readFile({ encoding: 'utf8' });
  } finally {
    await handle.close();
  }
}

/** ` (ClusterImagePolicy acme-release)` when the document says so plainly, else nothing. */
function label(doc: unknown): string {
  if (!isMapping(doc)) return '';
  const kind = own(doc, 'kind');
  const metadata = own(doc, 'metadata');
  const name = isMapping(metadata) ? own(metadata, 'name') : undefined;
  const plain = (v: unknown, pattern: RegExp): v is string => typeof v === 'string' && pattern.test(v);
  if (!plain(kind, /^[A-Za-z]{1,63}$/)) return '';
  return plain(name, /^[a-z0-9.-]{1,253}$/) ? ` (${kind} ${name})` : ` (${kind})`;
}

function duplicates(policies: readonly CompiledPolicy[]): string[] {
  const seen = new Map<string, CompiledPolicy>();
  const problems: string[] = [];
  for (const policy of policies) {
    const key = `${policy.kind}/${policy.namespace ?? ''}/${policy.name}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, policy);
    else problems.push(`${policy.source}: metadata.name: another ${policy.kind} with this name is defined at ${first.source}`);
  }
  return problems;
}
