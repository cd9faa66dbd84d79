import { createHash } from 'node:crypto';
import { MEDIA_TYPE } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Descriptor } from './types.js';

/** OCI image-spec digest grammar: `algorithm:encoded`. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
/** distribution-spec tag grammar (cosign-spec §3.1). */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
/** A media type as `type/subtype`, RFC 6838 restricted names. */
const MEDIA = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function sha256Digest(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Checks a digest sigward must recompute: only sha256 is supported (it is what registries and
 * cosign use); another well-formed algorithm is DIGEST_UNSUPPORTED, not a silent mismatch. */
export function checkSha256(digest: string, where: string): string {
  if (SHA256.test(digest)) return digest;
  if (DIGEST.test(digest)) throw new SigwardError('DIGEST_UNSUPPORTED', `${where}: digest algorithm of ${digest} is not sha256`);
  throw new SigwardError('DIGEST_INVALID', `${where}: ${JSON.stringify(digest.slice(0, 100))} is not a digest`);
}

/** A manifest reference is a tag or a sha256 digest; returns the digest when it is one. */
export function checkManifestReference(reference: string, where: string): { digest: string | undefined } {
  if (reference.includes(':')) return { digest: checkSha256(reference, where) };
  if (TAG.test(reference)) return { digest: undefined };
  throw new SigwardError('REFERENCE_INVALID', `${where}: ${JSON.stringify(reference.slice(0, 140))} is not a tag or digest`);
}

/** A Content-Type without parameters, lower-cased; undefined when absent or not a media type. */
export function mediaTypeOf(contentType: string | null): string | undefined {
  const type = (contentType ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return MEDIA.test(type) ? type : undefined;
}

export function parseJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Narrows one descriptor of registry JSON, adding a problem with its field path for each
 * field that is not what the OCI image-spec says it is. */
export function parseDescriptor(value: unknown, path: string, problems: string[]): Descriptor | undefined {
  if (!isObject(value)) {
    problems.push(`${path}: not an object`);
    return undefined;
  }
  const before = problems.length;
  const { mediaType, digest, size, annotations, artifactType, platform } = value;
  if (typeof mediaType !== 'string' || !MEDIA.test(mediaType)) problems.push(`${path}.mediaType: not a media type`);
  if (typeof digest !== 'string' || !DIGEST.test(digest)) problems.push(`${path}.digest: not a digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) problems.push(`${path}.size: not a non-negative integer`);
  if (artifactType !== undefined && (typeof artifactType !== 'string' || !MEDIA.test(artifactType))) {
    problems.push(`${path}.artifactType: not a media type`);
  }
  const parsedAnnotations = parseAnnotations(annotations, `${path}.annotations`, problems);
  const parsedPlatform = parsePlatform(platform, `${path}.platform`, problems);
  if (problems.length > before) return undefined;
  return {
    mediaType: mediaType as string,
    digest: digest as string,
    size: size as number,
    ...(parsedAnnotations !== undefined ? { annotations: parsedAnnotations } : {}),
    ...(typeof artifactType === 'string' ? { artifactType } : {}),
    ...(parsedPlatform !== undefined ? { platform: parsedPlatform } : {}),
  };
}

function parsePlatform(value: unknown, path: string, problems: string[]): Descriptor['platform'] {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push(`${path}: not an object`);
    return undefined;
  }
  const { os, architecture, variant } = value;
  if (typeof os !== 'string' || os.length > 64 || typeof architecture !== 'string' || architecture.length > 64) {
    problems.push(`${path}: os and architecture must be strings`);
    return undefined;
  }
  if (variant !== undefined && (typeof variant !== 'string' || variant.length > 64)) {
    problems.push(`${path}.variant: not a string`);
    return undefined;
  }
  return { os, architecture, ...(typeof variant === 'string' ? { variant } : {}) };
}

/** An image index (OCI index or Docker manifest list): its manifests with their platforms, at most `max`. */
export function parseImageIndex(bytes: Uint8Array, where: string, max: number): Descriptor[] {
  const doc = parseJson(bytes);
  if (!isObject(doc) || doc.schemaVersion !== 2 || !Array.isArray(doc.manifests)) {
    throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${where}: not an image index`);
  }
  if (doc.manifests.length > max) {
    throw new SigwardError('TOO_MANY_PLATFORMS', `${where}: the index lists ${doc.manifests.length} manifests, more than ${max}`);
  }
  const problems: string[] = [];
  const descriptors = doc.manifests.flatMap((entry: unknown, index) => parseDescriptor(entry, `manifests[${index}]`, problems) ?? []);
  if (problems.length > 0) throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${where}: malformed image index: ${problems.slice(0, 20).join('; ')}`);
  return descriptors;
}

function parseAnnotations(value: unknown, path: string, problems: string[]): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) {
    problems.push(`${path}: not an object`);
    return undefined;
  }
  // A null-prototype copy: a `__proto__` key stays an ordinary annotation.
  const out = Object.create(null) as Record<string, string>;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') out[key] = entry;
    else problems.push(`${path}[${JSON.stringify(key.slice(0, 100))}]: not a string`);
  }
  return Object.freeze(out);
}

/**
 * Reads a referrers answer (OCI distribution-spec v1.1 "Listing Referrers"): an image index.
 * Returns undefined when the body is not an index by shape (a registry without the API that
 * answers 200 with an HTML page or other JSON), so the caller falls back to the tag schema;
 * an index whose descriptors are malformed is refused with every problem listed.
 */
export function parseReferrersIndex(bytes: Uint8Array, where: string): Descriptor[] | undefined {
  const doc = parseJson(bytes);
  if (!isObject(doc) || doc.schemaVersion !== 2 || !Array.isArray(doc.manifests)) return undefined;
  if (doc.mediaType !== undefined && doc.mediaType !== MEDIA_TYPE.ociIndex) return undefined;
  const problems: string[] = [];
  const descriptors: Descriptor[] = [];
  doc.manifests.forEach((entry: unknown, index) => {
    const descriptor = parseDescriptor(entry, `manifests[${index}]`, problems);
    if (descriptor !== undefined) descriptors.push(descriptor);
  });
  if (problems.length > 0) {
    throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${where}: malformed referrers index: ${problems.slice(0, 20).join('; ')}`);
  }
  return descriptors;
}

/** The next page of a paginated answer: `Link: <url>; rel="next"` (distribution-spec),
 * followed only on the same host. */
export function nextPage(link: string | null, base: URL): URL | undefined {
  if (link === null) return undefined;
  const match = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(link);
  if (match?.[1] === undefined) return undefined;
  try {
    const url = new URL(match[1], base);
    return url.host === base.host && url.protocol === base.protocol ? url : undefined;
  } catch {
    return undefined;
  }
}
