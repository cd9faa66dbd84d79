import { COSIGN, MEDIA_TYPE } from '../constants.js';
import { SigwardError, type ErrorCode } from '../errors.js';
import type { Descriptor, Manifest } from '../registry/types.js';
import { isObject, parseJsonBytes } from './json.js';
import { isSha256Digest } from './tag.js';

/** The manifest types a `.sig` tag may hold (cosign-spec §1.2): OCI by default, Docker schema2
 * when the signer set COSIGN_DOCKER_MEDIA_TYPES. Nothing else is asked for or accepted. */
export const SIGNATURE_MANIFEST_TYPES: readonly string[] = [MEDIA_TYPE.ociManifest, MEDIA_TYPE.dockerManifest];

const MAX_MEDIA_TYPE_CHARS = 255;
const MAX_ANNOTATION_KEY_CHARS = 1024;

/** One layer of a signature manifest: its descriptor, or why it could not be read. */
export type ManifestLayer =
  | { readonly ok: true; readonly descriptor: Descriptor }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/**
 * Parses a signature manifest narrowly. The manifest comes from whoever can push to the
 * signature repository, so it is hostile: a document that is not an image manifest throws
 * SIGNATURE_MALFORMED; more than cosign's 1000 layers throws TOO_MANY_SIGNATURES before any
 * layer is looked at (a manifest of a million layers must not become a million blob fetches);
 * a malformed layer becomes a failure of that layer only, so the other signatures still count.
 */
export function parseSignatureManifest(manifest: Manifest, location: string): readonly ManifestLayer[] {
  if (!SIGNATURE_MANIFEST_TYPES.includes(manifest.mediaType)) {
    throw malformed(location, `is a ${manifest.mediaType}, not an image manifest`);
  }
  const doc = parseJsonObject(manifest.bytes, location);
  if (doc.schemaVersion !== 2) throw malformed(location, 'schemaVersion: must be 2');
  if (doc.mediaType !== undefined && (typeof doc.mediaType !== 'string' || !SIGNATURE_MANIFEST_TYPES.includes(doc.mediaType))) {
    throw malformed(location, 'mediaType: not an image manifest type');
  }
  const layers = doc.layers;
  if (!Array.isArray(layers)) throw malformed(location, 'layers: must be an array');
  if (layers.length > COSIGN.maxLayers) {
    throw new SigwardError(
      'TOO_MANY_SIGNATURES',
      `${location}: ${layers.length} signature layers, more than the ${COSIGN.maxLayers} cosign reads`,
    );
  }
  return layers.map((layer: unknown) => parseLayer(layer));
}

function parseLayer(layer: unknown): ManifestLayer {
  if (!isObject(layer)) return failure('not an object');
  const { mediaType, digest, size, annotations } = layer;
  if (typeof mediaType !== 'string' || mediaType.length === 0 || mediaType.length > MAX_MEDIA_TYPE_CHARS) {
    return failure('mediaType: must be a media type string');
  }
  if (typeof digest !== 'string' || !isSha256Digest(digest)) {
    return failure('digest: must be sha256:<64 hex>');
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    return failure('size: must be a non-negative integer');
  }
  const parsedAnnotations = parseAnnotations(annotations);
  if (parsedAnnotations === undefined) return failure('annotations: must map names to strings');
  return { ok: true, descriptor: { mediaType, digest, size, annotations: parsedAnnotations } };
}

function parseAnnotations(value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  for (const [key, entry] of entries) {
    if (typeof entry !== 'string' || key.length > MAX_ANNOTATION_KEY_CHARS) return undefined;
  }
  // fromEntries defines own properties, so a `__proto__` key stays data, never a prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

function parseJsonObject(bytes: Uint8Array, location: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseJsonBytes(bytes);
  } catch (err) {
    throw new SigwardError('SIGNATURE_MALFORMED', `${location}: manifest is not JSON`, { cause: err });
  }
  if (!isObject(doc)) throw malformed(location, 'manifest is not a JSON object');
  return doc;
}

function failure(message: string): ManifestLayer {
  return { ok: false, code: 'SIGNATURE_MALFORMED', message: `layer ${message}` };
}

function malformed(location: string, message: string): SigwardError {
  return new SigwardError('SIGNATURE_MALFORMED', `${location}: ${message}`);
}
