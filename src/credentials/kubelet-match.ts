/**
 * The kubelet's `matchImages` rule (pkg/credentialprovider URLsMatch), used for the patterns of
 * a CredentialProviderConfig and for the keys of a plugin's `auth` answer:
 * - the pattern and the image have the same number of host labels, each label matched as a
 *   glob (`*` within the label, `?` one character, `[...]` a class), so `*.io` does not match
 *   `registry.k8s.io`;
 * - ports are compared exactly (a pattern without a port matches only images without one);
 * - the pattern's path is a prefix of the image's path (as strings, as the kubelet compares them).
 */

export interface ImagePattern {
  readonly text: string;
  readonly labels: readonly RegExp[];
  readonly port: string;
  readonly path: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** Parses a pattern; a string naming the reason when it is not one. */
export function parseImagePattern(text: string): ImagePattern | string {
  const parts = split(text);
  if (parts.host === '') return 'no registry host';
  if (parts.port !== '' && !/^\d{1,5}$/.test(parts.port)) return 'the port is not a number (globs go in the host only)';
  const labels: RegExp[] = [];
  for (const label of parts.host.split('.')) {
    const compiled = globLabel(label);
    if (typeof compiled === 'string') return compiled;
    labels.push(compiled);
  }
  return { text, labels, port: parts.port, path: parts.path };
}

/** Whether an image (`host[:port]/path...`, no scheme) matches a pattern. */
export function imageMatches(pattern: ImagePattern, image: string): boolean {
  const target = split(image);
  if (target.port !== pattern.port) return false;
  const labels = target.host.split('.');
  if (labels.length !== pattern.labels.length) return false;
  if (!pattern.labels.every((glob, at) => glob.test(labels[at] ?? ''))) return false;
  return target.path.startsWith(pattern.path);
}

function split(text: string): { host: string; port: string; path: string } {
  const bare = text.trim().replace(SCHEME, '');
  const slash = bare.indexOf('/');
  const authority = slash < 0 ? bare : bare.slice(0, slash);
  const path = slash < 0 ? '' : bare.slice(slash);
  const colon = authority.lastIndexOf(':');
  const host = (colon < 0 ? authority : authority.slice(0, colon)).toLowerCase();
  return { host, port: colon < 0 ? '' : authority.slice(colon + 1), path };
}

/** One host label as Go's filepath.Match reads it, anchored. */
function globLabel(label: string): RegExp | string {
  if (label === '') return 'an empty host label';
  let source = '';
  for (let at = 0; at < label.length; at++) {
    const char = label[at]!;
    if (char === '*') source += '[^.]*';
    else if (char === '?') source += '[^.]';
    else if (char === '[') {
      const end = label.indexOf(']', at + 2);
      if (end < 0) return `an unclosed "[" in ${JSON.stringify(label)}`;
      let body = label.slice(at + 1, end);
      const negated = body.startsWith('^');
      if (negated) body = body.slice(1);
      if (!/^[a-z0-9-]+$/i.test(body.replaceAll(/([a-z0-9])-([a-z0-9])/gi, '$1$2'))) return `a character class that is not letters, digits or ranges in ${JSON.stringify(label)}`;
      source += `[${negated ? '^' : ''}${body}]`;
      at = end;
    } else if (/[a-z0-9-]/i.test(char)) source += char;
    else return `${JSON.stringify(char)} cannot appear in a host label`;
  }
  return new RegExp(`^${source}$`, 'i');
}
