import { child, own, readList, readMapping, readString, type Fields } from './fields.js';
import type { Problems } from './problems.js';
import { quote } from './problems.js';

/** `os/architecture[/variant]`, as an image index's `platform` names it. */
export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/**
 * Which manifests of a multi-platform image must carry the signatures (`spec.platforms`):
 * - `index` (the default): the index's own digest, which `cosign sign` signs; with
 *   `acceptChildOfSignedIndex`, a pod naming a platform manifest as `repo:tag@sha256:child` is
 *   also accepted when the tag's index lists that child and is signed;
 * - `every`: every platform manifest the index lists (what `cosign sign --recursive` adds);
 * - `listed`: the platforms of `list`, each of which must exist in the index.
 */
export type PlatformRule =
  | { readonly mode: 'index'; readonly acceptChildOfSignedIndex: boolean }
  | { readonly mode: 'every' }
  | { readonly mode: 'listed'; readonly list: readonly Platform[] };

export const INDEX_RULE: PlatformRule = { mode: 'index', acceptChildOfSignedIndex: false };
const MODES = ['index', 'every', 'listed'] as const;
const MAX_PLATFORMS = 16;
const PLATFORM = /^([a-z0-9]+)\/([a-z0-9_]+)(?:\/([a-z0-9]+))?$/;

export function readPlatforms(fields: Fields, problems: Problems): PlatformRule | undefined {
  const value = own(fields, 'platforms');
  if (value === undefined || value === null) return INDEX_RULE;
  const at = 'spec.platforms';
  const rule = readMapping(value, at, problems, ['mode', 'list', 'acceptChildOfSignedIndex']);
  if (rule === undefined) return undefined;
  const before = problems.count;
  const written = readString(rule, 'mode', at, problems, { max: 16 }) ?? 'index';
  const mode = MODES.find((m) => m === written);
  if (mode === undefined) problems.add(child(at, 'mode'), `must be ${MODES.join(', ')}, not ${quote(written)}`);
  const accept = own(rule, 'acceptChildOfSignedIndex');
  if (accept !== undefined && typeof accept !== 'boolean') problems.add(child(at, 'acceptChildOfSignedIndex'), 'must be true or false');
  if (accept === true && mode !== 'index') problems.add(child(at, 'acceptChildOfSignedIndex'), 'applies to mode index only');
  const list = readList(rule, 'list', at, problems, { max: MAX_PLATFORMS });
  if (mode === 'listed' && (list === undefined || list.length === 0)) problems.add(child(at, 'list'), 'is required with mode listed and must name at least one os/architecture');
  if (mode !== 'listed' && list !== undefined) problems.add(child(at, 'list'), 'applies to mode listed only');
  const platforms: Platform[] = [];
  (list ?? []).forEach((entry, i) => {
    const match = typeof entry === 'string' ? PLATFORM.exec(entry) : null;
    if (match === null) {
      problems.add(`${child(at, 'list')}[${i}]`, `${typeof entry === 'string' ? quote(entry) : 'a non-string'} must be os/architecture or os/architecture/variant, such as linux/arm64/v8`);
      return;
    }
    const [, os, architecture, variant] = match as unknown as [string, string, string, string | undefined];
    if (platforms.some((p) => platformText(p) === entry)) problems.add(`${child(at, 'list')}[${i}]`, `${quote(entry as string)} is listed twice`);
    platforms.push({ os, architecture, ...(variant === undefined ? {} : { variant }) });
  });
  if (problems.count !== before || mode === undefined) return undefined;
  if (mode === 'index') return { mode, acceptChildOfSignedIndex: accept === true };
  if (mode === 'every') return { mode };
  return { mode, list: platforms };
}

export function platformText(platform: Platform): string {
  return `${platform.os}/${platform.architecture}${platform.variant === undefined ? '' : `/${platform.variant}`}`;
}

/** Whether an index entry's platform is the one asked for; a rule without a variant takes any. */
export function platformMatches(wanted: Platform, found: Platform): boolean {
  return wanted.os === found.os && wanted.architecture === found.architecture && (wanted.variant === undefined || wanted.variant === found.variant);
}
