/** JSON from the registry, read the way Go's encoding/json (cosign) reads it. */

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses JSON bytes: strict UTF-8, and a byte-order mark is kept (so JSON.parse refuses it), as
 * cosign refuses both. Throws the SyntaxError or TypeError of the failing step.
 */
export function parseJsonBytes(bytes: Uint8Array): unknown {
  return JSON.parse(UTF8.decode(bytes));
}

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
