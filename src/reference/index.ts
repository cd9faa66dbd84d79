export type { ImageReference, Repository } from './types.js';
export { parseReference, parseRepository, formatReference, withDigest } from './parse.js';
export { isDigest, parseDigest } from './digest.js';
export { apiHost, normalizeRegistry, looksLikeRegistry } from './registry.js';
