import { DOCKER_HUB } from '../constants.js';
import { SigwardError, isSigwardError } from '../errors.js';
import { looksLikeRegistry, normalizeRegistry } from '../reference/index.js';
import { run, toAutomaton, toRegExp, tokenize } from './glob-match.js';
import { quote } from './problems.js';
import type { CompiledGlob } from './types.js';

/**
 * Image globs. A glob is matched against the normalized repository name (`registry/path`, no
 * tag or digest) that parseReference produces: `*` matches within one path segment, `**`
 * across segments (a whole `/**` segment also matches zero segments, so `quay.io/acme/**`
 * matches `quay.io/acme` itself), `?` one character other than `/`. Everything else is
 * literal. The glob's registry is normalized as references are, so no spelling of an image
 * (`index.docker.io/nginx`, `Quay.IO/x`, `quay.io:443/x`) escapes a policy written with
 * another spelling. The one glob `**` matches every image in every registry.
 */

const MAX_GLOB_LENGTH = 512;
/** Longest name worth matching; parsed names have 255 characters at most. */
const MAX_NAME_LENGTH = 1024;
const EVERYTHING = '**';

/** What is wrong with a glob, or undefined when it compiles. */
export function globProblem(glob: string): string | undefined {
  const result = normalizeGlob(glob);
  return 'problem' in result ? result.problem : undefined;
}

/** Compiles a glob; throws POLICY_INVALID naming the glob and what is wrong with it. */
export function compileGlob(glob: string): CompiledGlob {
  const result = normalizeGlob(glob);
  if ('problem' in result) throw new SigwardError('POLICY_INVALID', `glob ${quote(glob)}: ${result.problem}`);
  const tokens = tokenize(result.normalized);
  const automaton = toAutomaton(tokens);
  return {
    glob,
    normalized: result.normalized,
    regex: toRegExp(tokens),
    matches: (name) => name.length <= MAX_NAME_LENGTH && run(automaton, name),
  };
}

/** Whether a normalized repository name (Repository.name) matches. Never throws. */
export function matchGlob(compiled: CompiledGlob, name: string): boolean {
  return compiled.matches(name);
}

type Normalized = { readonly normalized: string } | { readonly problem: string };

function normalizeGlob(glob: string): Normalized {
  if (glob === '') return { problem: 'must not be empty' };
  if (glob.length > MAX_GLOB_LENGTH) return { problem: `is ${glob.length} characters long (${MAX_GLOB_LENGTH} at most)` };
  if (/[^\x21-\x7e]/.test(glob)) return { problem: 'must not contain spaces, control characters or non-ASCII characters' };
  if (glob.includes('***')) return { problem: "'***' is not a wildcard: use * within a path segment or ** across segments" };
  if (glob.includes('@')) return { problem: 'a glob matches repositories, which have no digest: remove the @digest' };
  if (glob === EVERYTHING) return { normalized: EVERYTHING };

  const split = splitRegistry(glob);
  if ('problem' in split) return split;
  const { registry, path } = split;
  if (path.split('/').includes('')) return { problem: 'has an empty path segment, which no repository has' };
  if (path.includes(':')) return { problem: 'a glob matches repositories, which have no tag: remove the :tag' };
  if (path !== path.toLowerCase()) return { problem: `repository paths are lower-case, so ${quote(path)} would never match` };
  return { normalized: `${registry}/${path}` };
}

/** Splits and normalizes the registry part by the rules of parseReference: no domain means
 * Docker Hub, and a single Docker Hub segment means an official image under `library/`. */
function splitRegistry(glob: string): { registry: string; path: string } | { problem: string } {
  const slash = glob.indexOf('/');
  if (slash < 0) return { registry: DOCKER_HUB.domain, path: `${DOCKER_HUB.officialNamespace}/${glob}` };
  const first = glob.slice(0, slash);
  const rest = glob.slice(slash + 1);
  if (!looksLikeRegistry(first)) return { registry: DOCKER_HUB.domain, path: glob };
  const registry = normalizeGlobRegistry(first);
  if (typeof registry !== 'string') return registry;
  const official = registry === DOCKER_HUB.domain && !rest.includes('/') && rest !== EVERYTHING;
  return { registry, path: official ? `${DOCKER_HUB.officialNamespace}/${rest}` : rest };
}

function normalizeGlobRegistry(host: string): string | { problem: string } {
  // A host pattern (`*.example.com`) cannot be looked up as aliases; it is only lower-cased.
  if (/[*?]/.test(host)) return host.toLowerCase();
  let registry: string;
  try {
    registry = normalizeRegistry(host);
  } catch (err) {
    if (isSigwardError(err)) return { problem: err.message };
    throw err;
  }
  if (!looksLikeRegistry(registry)) {
    return { problem: `registry ${quote(host)} is told apart from a Docker Hub namespace only by its capitals; write it with a domain or port` };
  }
  return registry;
}
