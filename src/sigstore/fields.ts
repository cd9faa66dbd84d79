/**
 * Narrow readers for protobuf-JSON documents (bundles, trusted roots). Each records a problem,
 * with its field path, instead of throwing, so a parser reports everything wrong at once.
 */
export type Problems = string[];
export type JsonObject = Record<string, unknown>;

/** Standard or URL-safe base64 with optional padding, as protobuf JSON allows, and nothing else:
 * node's decoder would silently skip foreign characters and decode something else. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}(?:==)?|[A-Za-z0-9+/]{3}=?)?$/;
const BASE64_URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?$/;
const UNSIGNED = /^(?:0|[1-9][0-9]{0,18})$/;
const INT64_MAX = (1n << 63n) - 1n;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Strict UTF-8 JSON; undefined (and a problem) when the bytes are not. */
export function parseJson(bytes: Uint8Array, what: string, problems: Problems): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    problems.push(`${what}: not UTF-8 JSON`);
    return undefined;
  }
}

export function objectAt(value: unknown, path: string, problems: Problems): JsonObject | undefined {
  if (isObject(value)) return value;
  problems.push(`${path}: ${value === undefined ? 'missing' : 'must be an object'}`);
  return undefined;
}

export function optionalObjectAt(value: unknown, path: string, problems: Problems): JsonObject | undefined {
  return value === undefined ? undefined : objectAt(value, path, problems);
}

/** An array of at most `max` items; [] when absent and `optional`. */
export function arrayAt(value: unknown, path: string, problems: Problems, max: number, optional = false): unknown[] {
  if (value === undefined && optional) return [];
  if (!Array.isArray(value)) {
    problems.push(`${path}: ${value === undefined ? 'missing' : 'must be an array'}`);
    return [];
  }
  if (value.length > max) {
    problems.push(`${path}: ${value.length} items (${max} at most)`);
    return [];
  }
  return value;
}

export function stringAt(value: unknown, path: string, problems: Problems): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  problems.push(`${path}: ${value === undefined ? 'missing' : 'must be a non-empty string'}`);
  return undefined;
}

export function optionalStringAt(value: unknown, path: string, problems: Problems): string | undefined {
  return value === undefined ? undefined : stringAt(value, path, problems);
}

/** Non-empty base64 bytes. */
export function bytesAt(value: unknown, path: string, problems: Problems): Uint8Array | undefined {
  if (typeof value !== 'string' || value === '') {
    problems.push(`${path}: ${value === undefined ? 'missing' : 'must be non-empty base64'}`);
    return undefined;
  }
  if (!BASE64.test(value) && !BASE64_URL.test(value)) {
    problems.push(`${path}: not base64`);
    return undefined;
  }
  return new Uint8Array(Buffer.from(value, 'base64'));
}

/** An int64 that must not be negative, written as protobuf JSON writes it (a decimal string) or as a safe number. */
export function unsignedAt(value: unknown, path: string, problems: Problems): bigint | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  if (typeof value === 'string' && UNSIGNED.test(value) && BigInt(value) <= INT64_MAX) return BigInt(value);
  problems.push(`${path}: ${value === undefined ? 'missing' : 'must be a non-negative 64-bit integer'}`);
  return undefined;
}

export function optionalUnsignedAt(value: unknown, path: string, problems: Problems): bigint | undefined {
  return value === undefined ? undefined : unsignedAt(value, path, problems);
}

/** An RFC 3339 time, as protobuf JSON writes `google.protobuf.Timestamp`. */
export function optionalTimeAt(value: unknown, path: string, problems: Problems): Date | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/.test(value)
    ? new Date(value)
    : undefined;
  if (time === undefined || Number.isNaN(time.getTime())) {
    problems.push(`${path}: must be an RFC 3339 time`);
    return undefined;
  }
  return time;
}

/** Walks nested objects: `valueAt(doc, 'spec', 'data')` is doc.spec.data, or undefined. */
export function valueAt(value: unknown, ...keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}
