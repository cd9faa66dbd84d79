import { DOCKER_HUB } from '../constants.js';
import { SigwardError, isSigwardError } from '../errors.js';
import { parseDigest } from './digest.js';
import { IMAGE_ID, MAX_NAME_LENGTH, MAX_WRITTEN_NAME_LENGTH, PATH, TAG } from './grammar.js';
import { looksLikeRegistry, normalizeRegistry, quote } from './registry.js';
import type { ImageReference, Repository } from './types.js';

const DEFAULT_TAG = 'latest';

/**
 * Parses and normalizes an image reference, `name[:tag][@digest]`, by the docker/distribution
 * grammar (cosign-spec §3.3). A reference that names no tag and no digest gets the tag
 * `latest`; a reference with both keeps both (the digest is what is verified, as runtimes pull
 * by the digest). Throws REFERENCE_INVALID, REFERENCE_NAME_TOO_LONG, DIGEST_INVALID or
 * DIGEST_UNSUPPORTED with a message that names the input and what is wrong with it.
 */
export function parseReference(input: string): ImageReference {
  const context = `invalid image reference ${quote(input)}`;
  const { name, tag, digest } = split(input, context);
  const repository = parseName(name, context);
  if (tag !== undefined && !TAG.test(tag)) {
    throw new SigwardError('REFERENCE_INVALID', `${context}: tag ${quote(tag)} must be 1 to 128 of [A-Za-z0-9_.-], not starting with . or -`);
  }
  if (digest !== undefined) parseDigest(digest, context);
  return {
    ...repository,
    tag: tag ?? (digest === undefined ? DEFAULT_TAG : undefined),
    digest,
    original: input,
  };
}

/**
 * Parses and normalizes a repository (a reference without tag or digest), as given to
 * `--signature-repository` or `signatureRepository`. Throws REFERENCE_INVALID when it carries a
 * tag or digest: a signature repository names where signatures live, not an image.
 */
export function parseRepository(input: string): Repository {
  const context = `invalid repository ${quote(input)}`;
  const { name, tag, digest } = split(input, context);
  if (digest !== undefined) throw new SigwardError('REFERENCE_INVALID', `${context}: a repository takes no digest`);
  if (tag !== undefined) throw new SigwardError('REFERENCE_INVALID', `${context}: a repository takes no tag`);
  return parseName(name, context);
}

/** The canonical string of a reference: `registry/repository[:tag][@digest]`. Parsing it again
 * gives the same reference. */
export function formatReference(ref: ImageReference): string {
  const tag = ref.tag === undefined ? '' : `:${ref.tag}`;
  const digest = ref.digest === undefined ? '' : `@${ref.digest}`;
  return `${ref.name}${tag}${digest}`;
}

/** The same reference pinned to `digest` (its tag kept for messages). Throws DIGEST_INVALID or
 * DIGEST_UNSUPPORTED unless `digest` is a sha256 digest. */
export function withDigest(ref: ImageReference, digest: string): ImageReference {
  parseDigest(digest, `cannot pin ${ref.name} to ${quote(digest)}`);
  return { ...ref, digest };
}

/** Splits `name[:tag][@digest]`. Neither a name nor a tag may hold `@`, and a tag cannot hold
 * `/`, so the digest starts at the first `@` and the tag at the first `:` after the last `/`. */
function split(input: string, context: string): { name: string; tag: string | undefined; digest: string | undefined } {
  // Callers pass what a pod spec held; JSON can put anything there.
  if (typeof input !== 'string') throw new SigwardError('REFERENCE_INVALID', `${context}: it is not a string`);
  if (input === '') throw new SigwardError('REFERENCE_INVALID', `${context}: it is empty`);
  // A bare 64-hex string is an image ID (distribution's ParseNormalizedNamed refuses it), not
  // the Docker Hub image library/<hex>; with a tag or digest it can only be a name.
  if (IMAGE_ID.test(input)) {
    throw new SigwardError('REFERENCE_INVALID', `${context}: a 64-digit hex string is an image ID, not a repository name`);
  }
  const at = input.indexOf('@');
  const rest = at < 0 ? input : input.slice(0, at);
  const digest = at < 0 ? undefined : input.slice(at + 1);
  const colon = rest.indexOf(':', rest.lastIndexOf('/') + 1);
  const name = colon < 0 ? rest : rest.slice(0, colon);
  const tag = colon < 0 ? undefined : rest.slice(colon + 1);
  if (name === '') throw new SigwardError('REFERENCE_INVALID', `${context}: the repository name is missing`);
  if (name.length > MAX_WRITTEN_NAME_LENGTH) throw tooLong(context, name.length);
  return { name, tag, digest };
}

/** Splits the registry from the path (splitDockerDomain) and normalizes both. */
function parseName(name: string, context: string): Repository {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && looksLikeRegistry(first);
  const registry = hasRegistry ? normalizeHost(first, context) : DOCKER_HUB.domain;
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (!PATH.test(path)) throw new SigwardError('REFERENCE_INVALID', `${context}: ${pathProblem(path)}`);
  if (registry === DOCKER_HUB.domain && !path.includes('/')) path = `${DOCKER_HUB.officialNamespace}/${path}`;
  const full = `${registry}/${path}`;
  if (full.length > MAX_NAME_LENGTH) throw tooLong(context, full.length);
  return { registry, repository: path, name: full };
}

function normalizeHost(host: string, context: string): string {
  let registry: string;
  try {
    registry = normalizeRegistry(host);
  } catch (err) {
    if (!isSigwardError(err)) throw err;
    throw new SigwardError(err.code, `${context}: ${err.message}`, { cause: err });
  }
  // `Foo/app` names the host `Foo` only because of its capital; lower-cased it would read as
  // the Docker Hub image `foo/app`. One string would then name two images, so refuse it.
  if (!looksLikeRegistry(registry)) {
    throw new SigwardError(
      'REFERENCE_INVALID',
      `${context}: registry ${quote(host)} is told apart from a Docker Hub namespace only by its capitals; write it with a domain or port`,
    );
  }
  return registry;
}

function pathProblem(path: string): string {
  if (path === '') return 'the repository path is empty';
  if (path !== path.toLowerCase() && PATH.test(path.toLowerCase())) {
    return `repository path ${quote(path)} must be lower-case`;
  }
  return `repository path ${quote(path)} must be components of [a-z0-9] joined by '/', each separated inside by '.', '_', '__' or dashes`;
}

function tooLong(context: string, length: number): SigwardError {
  return new SigwardError('REFERENCE_NAME_TOO_LONG', `${context}: the repository name is ${length} characters long (${MAX_NAME_LENGTH} at most)`);
}
