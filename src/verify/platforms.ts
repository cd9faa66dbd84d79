/**
 * A policy's platform rule (policy/platforms.ts) applied to one image: which digests must carry
 * the signatures, and how their verdicts fold into one verdict per authority.
 * - `index`: the digest admitted (the index, for a multi-platform image). With
 *   acceptChildOfSignedIndex, a reference `repo:tag@sha256:child` whose own digest does not verify
 *   is accepted for an authority when the tag's index lists that child and verifies for it.
 *   Cost: one tag resolution and one index manifest, only when the child's own check failed.
 * - `every`: every platform manifest of the index (attestation entries, `unknown/unknown`, aside);
 *   a single-platform image: its own digest.
 * - `listed`: each listed platform must be in the index and verify there; a single-platform image
 *   must be the one listed platform (read from its config).
 * An authority verifies when it verifies at every required digest; its failures name the platform.
 */
import { MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import { platformMatches, platformText, type Platform, type PlatformRule } from '../policy/platforms.js';
import type { ImageReference, Repository } from '../reference/types.js';
import { isObject, parseImageIndex, parseJson } from '../registry/parse.js';
import type { Descriptor, Registry } from '../registry/types.js';
import type { Authority, AuthorityVerdict, VerifyOptions } from './types.js';

const MAX_PLATFORMS = 64;
const INDEX_TYPES: ReadonlySet<string> = new Set([MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList]);
const MANIFEST_ACCEPT = [MEDIA_TYPE.ociIndex, MEDIA_TYPE.dockerManifestList, MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest];
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface PlatformDeps {
  readonly registry: Registry;
  verifyDigest(image: Repository, digest: string, authorities: readonly Authority[], options: VerifyOptions): Promise<AuthorityVerdict[]>;
  resolve(ref: ImageReference, options: VerifyOptions): Promise<string>;
}

interface Required {
  readonly platform: string;
  readonly digest: string;
}

export async function verifyUnderRule(
  deps: PlatformDeps,
  ref: ImageReference,
  digest: string,
  rule: PlatformRule,
  authorities: readonly Authority[],
  options: VerifyOptions,
): Promise<AuthorityVerdict[]> {
  if (rule.mode === 'index') {
    const own = await deps.verifyDigest(ref, digest, authorities, options);
    if (!rule.acceptChildOfSignedIndex || ref.digest === undefined || ref.tag === undefined || own.every((v) => v.verified)) return own;
    return acceptFromIndex(deps, ref, digest, authorities, own, options);
  }
  const children = await indexEntries(deps.registry, ref, digest, options);
  let required: Required[];
  const missing: string[] = [];
  if (children === undefined) {
    if (rule.mode === 'every') return deps.verifyDigest(ref, digest, authorities, options);
    const own = await configPlatform(deps.registry, ref, digest, options);
    if (rule.list.length === 1 && own !== undefined && platformMatches(rule.list[0]!, own)) return deps.verifyDigest(ref, digest, authorities, options);
    required = [];
    const absent = rule.list.filter((wanted) => own === undefined || !platformMatches(wanted, own)).map(platformText);
    missing.push(...(absent.length > 0 ? absent : [`${rule.list.map(platformText).join(', ')} (the image is one single-platform manifest)`]));
  } else if (rule.mode === 'every') {
    required = children.filter(isPlatformManifest).map((entry) => ({ platform: platformText(entry.platform!), digest: entry.digest }));
    if (required.length === 0) missing.push('any platform (the index lists none)');
  } else {
    required = [];
    for (const wanted of rule.list) {
      const found = children.find((entry) => isPlatformManifest(entry) && platformMatches(wanted, entry.platform!));
      if (found === undefined) missing.push(platformText(wanted));
      else required.push({ platform: platformText(wanted), digest: found.digest });
    }
  }
  const verdicts = await Promise.all(required.map((r) => deps.verifyDigest(ref, r.digest, authorities, options)));
  return authorities.map((authority, i) => fold(authority, required, verdicts.map((v) => v[i]!), missing));
}

function fold(authority: Authority, required: readonly Required[], verdicts: readonly AuthorityVerdict[], missing: readonly string[]): AuthorityVerdict {
  const failures = [
    ...missing.map((platform) => ({ code: 'PLATFORM_MISSING' as const, message: `platform ${platform} is not in the image` })),
    ...verdicts.flatMap((verdict, j) => (verdict.verified ? [] : verdict.failures.map((f) => ({ ...f, message: `platform ${required[j]!.platform} (${required[j]!.digest}): ${f.message}` })))),
  ];
  const verified = failures.length === 0 && verdicts.length > 0 && verdicts.every((v) => v.verified);
  return { authority: authority.name, verified, signatures: verified ? verdicts.flatMap((v) => v.signatures) : [], failures: verified ? [] : failures };
}

/** A child named with its tag's index: accepted for each authority that the index verifies for. */
async function acceptFromIndex(
  deps: PlatformDeps,
  ref: ImageReference,
  digest: string,
  authorities: readonly Authority[],
  own: readonly AuthorityVerdict[],
  options: VerifyOptions,
): Promise<AuthorityVerdict[]> {
  const indexDigest = await deps.resolve({ ...ref, digest: undefined }, options);
  if (indexDigest === digest) return [...own];
  const children = await indexEntries(deps.registry, ref, indexDigest, options);
  if (children?.some((entry) => entry.digest === digest) !== true) {
    return own.map((v) => (v.verified ? v : { ...v, failures: [...v.failures, { code: 'SIGNATURE_MISSING' as const, message: `tag ${ref.tag ?? ''} names ${indexDigest}, which does not list ${digest}` }] }));
  }
  const fromIndex = await deps.verifyDigest(ref, indexDigest, authorities, options);
  return own.map((v, i) => (v.verified || fromIndex[i]?.verified !== true ? v : { ...fromIndex[i], authority: v.authority }));
}

function isPlatformManifest(entry: Descriptor): boolean {
  if (entry.platform === undefined) return false;
  if (entry.platform.os === 'unknown' && entry.platform.architecture === 'unknown') return false;
  return entry.annotations?.['vnd.docker.reference.type'] !== 'attestation-manifest';
}

/** The entries of the index at `digest`; undefined when the digest names a single manifest. */
async function indexEntries(registry: Registry, repo: Repository, digest: string, options: VerifyOptions): Promise<Descriptor[] | undefined> {
  const manifest = await registry.getManifest(repo, digest, { ...options, accept: MANIFEST_ACCEPT });
  if (manifest === undefined) throw new SigwardError('MANIFEST_UNKNOWN', `${repo.name}@${digest}: not found`);
  const doc = parseJson(manifest.bytes);
  const type = isObject(doc) && typeof doc.mediaType === 'string' ? doc.mediaType : manifest.mediaType;
  if (!INDEX_TYPES.has(type) && !(isObject(doc) && Array.isArray(doc.manifests))) return undefined;
  return parseImageIndex(manifest.bytes, `${repo.name}@${digest}`, MAX_PLATFORMS);
}

/** A single manifest's platform, from its config blob's `os`, `architecture` and `variant`. */
async function configPlatform(registry: Registry, repo: Repository, digest: string, options: VerifyOptions): Promise<Platform | undefined> {
  const manifest = await registry.getManifest(repo, digest, { ...options, accept: MANIFEST_ACCEPT });
  const doc = manifest === undefined ? undefined : parseJson(manifest.bytes);
  const config = isObject(doc) && isObject(doc.config) ? doc.config : undefined;
  if (config === undefined || typeof config.digest !== 'string' || typeof config.size !== 'number' || typeof config.mediaType !== 'string') return undefined;
  const bytes = await registry.getBlob(repo, { digest: config.digest, size: config.size, mediaType: config.mediaType }, { ...options, maxBytes: MAX_CONFIG_BYTES });
  const parsed = parseJson(bytes);
  if (!isObject(parsed) || typeof parsed.os !== 'string' || typeof parsed.architecture !== 'string') return undefined;
  return { os: parsed.os, architecture: parsed.architecture, ...(typeof parsed.variant === 'string' ? { variant: parsed.variant } : {}) };
}
