/**
 * Break-glass exemptions (`ImageExemption`, cluster-scoped, sigward.dev/v1alpha1): a sanctioned,
 * audited way to let named images through during an incident. While valid, an image it names, in
 * a namespace it names, is admitted with a warning instead of denied (or warned); every use is an
 * Event, a metric and a policy report entry naming the exemption. It always ends: `expires` is
 * required and at most 7 days after the object's creation (a clock the API server's CEL rules do
 * not have, so sigward enforces it; the CRD refuses a missing `expires` and any later change to
 * it). Once expired it has no effect, and its status says so.
 */
import type { ImageReference } from '../reference/types.js';
import { child, isMapping, own, readList, readMapping, readString } from './fields.js';
import { compileGlob, globProblem } from './glob.js';
import { PolicyError, policyInvalid, Problems, quote } from './problems.js';
import type { CompiledGlob } from './types.js';

export const MAX_EXEMPTION_MS = 7 * 24 * 3_600_000;
const MAX_IMAGES = 16;
const MAX_NAMESPACES = 64;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export interface CompiledExemption {
  readonly name: string;
  readonly images: readonly ({ readonly glob: CompiledGlob } | { readonly digest: string })[];
  /** Undefined: every namespace the webhook sees. */
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly reason: string;
  /** Milliseconds since the epoch. */
  readonly expires: number;
}

/** Reads one ImageExemption object; POLICY_INVALID lists every problem with its field path. */
export function parseExemption(doc: unknown): CompiledExemption {
  const problems = new Problems();
  const top = isMapping(doc) ? doc : {};
  const metadata = isMapping(top.metadata) ? top.metadata : {};
  const name = typeof metadata.name === 'string' ? metadata.name : '(unnamed)';
  const where = `ImageExemption ${name}`;
  const created = typeof metadata.creationTimestamp === 'string' ? Date.parse(metadata.creationTimestamp) : Number.NaN;
  const spec = readMapping(top.spec, 'spec', problems, ['images', 'namespaces', 'reason', 'expires']);
  if (spec === undefined) throw invalid(where, problems.count === 0 ? ['spec: is required'] : problems.all);
  const images = readImages(spec, problems);
  const namespaces = readNamespaces(spec, problems);
  const reason = readString(spec, 'reason', 'spec', problems, { required: true, max: 1024 });
  const written = readString(spec, 'expires', 'spec', problems, { required: true, max: 64 });
  const expires = written !== undefined && RFC3339.test(written) ? Date.parse(written) : Number.NaN;
  if (written !== undefined && Number.isNaN(expires)) problems.add('spec.expires', `${quote(written)} must be an RFC 3339 time, such as 2026-12-05T18:00:00Z`);
  if (!Number.isNaN(expires) && !Number.isNaN(created) && expires - created > MAX_EXEMPTION_MS) {
    problems.add('spec.expires', `is more than 7 days after the exemption was created (${new Date(created).toISOString()}); create a new one when it runs out`);
  }
  if (problems.count > 0 || images === undefined || reason === undefined) throw invalid(where, problems.all);
  return { name, images, namespaces, reason, expires };
}

function readImages(spec: Readonly<Record<string, unknown>>, problems: Problems): CompiledExemption['images'] | undefined {
  const list = readList(spec, 'images', 'spec', problems, { required: true, max: MAX_IMAGES });
  if (list === undefined) return undefined;
  const images: CompiledExemption['images'][number][] = [];
  list.forEach((entry, i) => {
    const at = `spec.images[${i}]`;
    const fields = readMapping(entry, at, problems, ['glob', 'digest']);
    if (fields === undefined) return;
    const glob = readString(fields, 'glob', at, problems, { max: 4096 });
    const digest = readString(fields, 'digest', at, problems, { max: 80, pattern: DIGEST, patternText: 'a sha256:<64 hex> digest' });
    if ((glob === undefined) === (digest === undefined)) {
      if (own(fields, 'glob') === undefined && own(fields, 'digest') === undefined) problems.add(at, 'set exactly one of glob and digest');
      else if (glob !== undefined && digest !== undefined) problems.add(at, 'set exactly one of glob and digest, not both');
      return;
    }
    if (glob !== undefined) {
      const problem = globProblem(glob);
      if (problem !== undefined) problems.add(child(at, 'glob'), `${quote(glob)}: ${problem}`);
      else images.push({ glob: compileGlob(glob) });
    } else images.push({ digest: digest! });
  });
  return images.length === list.length ? images : undefined;
}

function readNamespaces(spec: Readonly<Record<string, unknown>>, problems: Problems): ReadonlySet<string> | undefined {
  const list = readList(spec, 'namespaces', 'spec', problems, { max: MAX_NAMESPACES });
  if (list === undefined) return undefined;
  const names = new Set<string>();
  list.forEach((entry, i) => {
    if (typeof entry === 'string' && NAMESPACE.test(entry)) names.add(entry);
    else problems.add(`spec.namespaces[${i}]`, 'must be a namespace name');
  });
  return names;
}

function invalid(where: string, problems: readonly string[]): PolicyError {
  return policyInvalid(where, problems);
}

/** The first exemption in force now that names this image (by repository glob, or by the digest
 * that was resolved or written) in this namespace. */
export function exemptionFor(
  exemptions: readonly CompiledExemption[],
  ref: ImageReference,
  digest: string | undefined,
  namespace: string | undefined,
  now: number,
): CompiledExemption | undefined {
  return exemptions.find((e) =>
    e.expires > now
    && (e.namespaces === undefined || (namespace !== undefined && e.namespaces.has(namespace)))
    && e.images.some((image) => ('digest' in image ? image.digest === (digest ?? ref.digest) : image.glob.matches(ref.name))));
}
