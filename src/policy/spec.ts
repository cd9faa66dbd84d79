import { child, isMapping, own, readList, readMapping, readString } from './fields.js';
import { readAuthorities } from './authority.js';
import { globProblem } from './glob.js';
import type { KeyOptions } from './keys.js';
import type { Problems } from './problems.js';
import { quote } from './problems.js';
import { readPlatforms, type PlatformRule } from './platforms.js';
import { readSelector } from './selector.js';
import type { AuthoritySpec, LabelSelector, PolicyKind, PolicyMode } from './types.js';

const SPEC_FIELDS = ['images', 'mode', 'threshold', 'namespaceSelector', 'platforms', 'authorities'] as const;
const MODES: readonly PolicyMode[] = ['enforce', 'warn', 'audit'];
const MAX_IMAGES = 256;
const MAX_GLOB_TEXT = 4096;

export interface SpecFields {
  readonly images: readonly string[];
  readonly mode: PolicyMode;
  readonly threshold: number;
  readonly namespaceSelector: LabelSelector | undefined;
  readonly platforms: PlatformRule;
  readonly authorities: readonly AuthoritySpec[];
}

/** Reads `spec`: images, mode (default enforce), threshold (default 1), namespaceSelector
 * (ClusterImagePolicy only) and authorities. */
export function readSpec(value: unknown, kind: PolicyKind | undefined, problems: Problems, options: KeyOptions): SpecFields | undefined {
  if (value === undefined || value === null) {
    problems.add('spec', 'is required');
    return undefined;
  }
  const fields = readMapping(value, 'spec', problems, SPEC_FIELDS);
  if (fields === undefined) return undefined;
  const before = problems.count;
  const images = readImages(fields, problems);
  const mode = readMode(fields, problems);
  const authorities = readAuthorities(fields, problems, options);
  const platforms = readPlatforms(fields, problems);
  const listed = own(fields, 'authorities');
  const threshold = readThreshold(fields, Array.isArray(listed) ? listed.length : undefined, problems);
  let namespaceSelector: LabelSelector | undefined;
  if (kind === 'ImagePolicy' && own(fields, 'namespaceSelector') != null) {
    problems.add('spec.namespaceSelector', 'only a ClusterImagePolicy has one: an ImagePolicy applies to its own namespace');
  } else {
    namespaceSelector = readSelector(own(fields, 'namespaceSelector'), 'spec.namespaceSelector', problems);
  }
  if (problems.count !== before || images === undefined || authorities === undefined || mode === undefined || threshold === undefined || platforms === undefined) {
    return undefined;
  }
  return { images, mode, threshold, namespaceSelector, platforms, authorities };
}

function readImages(fields: Readonly<Record<string, unknown>>, problems: Problems): readonly string[] | undefined {
  const list = readList(fields, 'images', 'spec', problems, { required: true, max: MAX_IMAGES });
  if (list === undefined) return undefined;
  const globs: string[] = [];
  list.forEach((entry, i) => {
    const path = `spec.images[${i}]`;
    if (!isMapping(entry)) {
      problems.add(path, 'must be a mapping with a glob, such as { glob: "registry.example.com/acme/**" }');
      return;
    }
    const image = readMapping(entry, path, problems, ['glob']) ?? {};
    const glob = readString(image, 'glob', path, problems, { required: true, max: MAX_GLOB_TEXT });
    if (glob === undefined) return;
    const problem = globProblem(glob);
    if (problem === undefined) globs.push(glob);
    else problems.add(child(path, 'glob'), `${quote(glob)}: ${problem}`);
  });
  return globs.length === list.length ? globs : undefined;
}

function readMode(fields: Readonly<Record<string, unknown>>, problems: Problems): PolicyMode | undefined {
  const raw = own(fields, 'mode');
  if (raw === undefined || raw === null) return 'enforce';
  const text = readString(fields, 'mode', 'spec', problems, { max: 16 });
  const mode = MODES.find((m) => m === text);
  if (mode === undefined && text !== undefined) problems.add('spec.mode', `must be ${MODES.join(', ')}, not ${quote(text)}`);
  return mode;
}

function readThreshold(fields: Readonly<Record<string, unknown>>, authorities: number | undefined, problems: Problems): number | undefined {
  const value = own(fields, 'threshold');
  if (value === undefined || value === null) return 1;
  const max = authorities !== undefined && authorities > 0 ? authorities : undefined;
  const ok = Number.isSafeInteger(value) && (value as number) >= 1 && (max === undefined || (value as number) <= max);
  if (ok) return value as number;
  if (typeof value !== 'number') {
    // `threshold: "1"` is a string to YAML: saying "between 1 and 1" would hide the real mistake.
    problems.add('spec.threshold', `must be a number, not ${Array.isArray(value) ? 'a list' : `a ${typeof value}`} (write it without quotes)`);
    return undefined;
  }
  problems.add(
    'spec.threshold',
    max === undefined ? 'must be a whole number of at least 1' : `must be a whole number from 1 to ${max} (the number of authorities), got ${value}`,
  );
  return undefined;
}
