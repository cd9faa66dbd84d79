import { SigwardError } from '../errors.js';
import { isObject, parseJsonBytes } from './json.js';
import type { SimpleSigningPayload } from './types.js';

/**
 * Parses a simple-signing payload (cosign-spec §1.3) narrowly. Call it only on bytes whose
 * signature has verified: before that they are an attacker's input, and the fields read here
 * decide what the signature is taken to mean. Every shape problem is reported, with its
 * field path, as PAYLOAD_INVALID. Unknown fields are ignored, as cosign ignores them.
 */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let doc: unknown;
  try {
    doc = parseJsonBytes(bytes);
  } catch (err) {
    throw new SigwardError('PAYLOAD_INVALID', 'payload is not JSON', { cause: err });
  }
  const problems: string[] = [];
  const root = expectObject(doc, '(payload)', problems);
  const critical = expectObject(root?.critical, 'critical', problems);
  const image = expectObject(critical?.image, 'critical.image', problems);
  const digest = expectString(image?.['docker-manifest-digest'], 'critical.image.docker-manifest-digest', problems);
  const type = expectString(critical?.type, 'critical.type', problems);
  const identity = optionalIdentity(critical?.identity, problems);
  const optional = root?.optional ?? null;
  if (optional !== null && !isObject(optional)) problems.push('optional: must be an object or null');
  if (problems.length > 0 || digest === undefined || type === undefined) {
    throw new SigwardError('PAYLOAD_INVALID', `payload is not a simple-signing payload: ${problems.join('; ')}`);
  }
  return {
    critical: { type, image: { 'docker-manifest-digest': digest }, ...(identity ? { identity } : {}) },
    optional: optional as Readonly<Record<string, unknown>> | null,
  };
}

function optionalIdentity(value: unknown, problems: string[]): { 'docker-reference'?: string } | undefined {
  if (value === undefined || value === null) return undefined;
  const identity = expectObject(value, 'critical.identity', problems);
  const reference = identity?.['docker-reference'];
  if (reference === undefined || reference === null) return {};
  const dockerReference = expectString(reference, 'critical.identity.docker-reference', problems);
  return dockerReference === undefined ? {} : { 'docker-reference': dockerReference };
}

function expectObject(value: unknown, path: string, problems: string[]): Record<string, unknown> | undefined {
  if (isObject(value)) return value;
  problems.push(`${path}: ${value === undefined ? 'missing' : 'must be an object'}`);
  return undefined;
}

function expectString(value: unknown, path: string, problems: string[]): string | undefined {
  if (typeof value === 'string') return value;
  problems.push(`${path}: ${value === undefined ? 'missing' : 'must be a string'}`);
  return undefined;
}
