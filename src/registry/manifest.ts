import { HEADER } from '../constants.js';
import { SigwardError } from '../errors.js';
import type { Descriptor } from './types.js';
import { subject, type CallContext } from './context.js';
import type { HttpReply } from './http.js';
import { isObject, mediaTypeOf, parseJson } from './parse.js';

const SHA256 = /^sha256:[a-f0-9]{64}$/;
/** Content-Types some registries send for any JSON: they say nothing about the manifest kind. */
const GENERIC = new Set(['application/json', 'application/octet-stream', 'text/plain']);

/** The descriptor a HEAD answer states, or undefined when it lacks any of digest, type and
 * length (the caller then GETs and hashes the body). Trusting the header here is the
 * optimisation the spec allows (cosign-spec §3.1): the digest is then what gets verified and
 * pinned, so a registry lying about it only makes sigward verify, and pin, another digest. */
export function headDescriptor(reply: HttpReply): Descriptor | undefined {
  const digest = reply.headers.get(HEADER.contentDigest)?.trim();
  const mediaType = mediaTypeOf(reply.headers.get('content-type'));
  const size = Number(reply.headers.get('content-length') ?? 'NaN');
  if (digest === undefined || !SHA256.test(digest)) return undefined;
  if (mediaType === undefined || GENERIC.has(mediaType)) return undefined;
  if (!Number.isSafeInteger(size) || size < 0) return undefined;
  return { mediaType, digest, size };
}

/**
 * The media type of a fetched manifest: its Content-Type, else the document's own `mediaType`.
 * When both are specific they must agree (distribution-spec); otherwise a registry could present
 * an index as an image manifest, or the reverse, to the code that walks it.
 */
export function manifestMediaType(ctx: CallContext, reply: HttpReply): string {
  const doc = parseJson(reply.body);
  if (!isObject(doc)) {
    throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: manifest is not a JSON object`);
  }
  const header = mediaTypeOf(reply.headers.get('content-type'));
  const own = typeof doc.mediaType === 'string' ? doc.mediaType : undefined;
  const specific = header !== undefined && !GENERIC.has(header) ? header : undefined;
  if (specific !== undefined && own !== undefined && own.toLowerCase() !== specific) {
    throw new SigwardError(
      'REGISTRY_RESPONSE_INVALID',
      `${subject(ctx)}: Content-Type ${specific} disagrees with the manifest's mediaType ${JSON.stringify(own.slice(0, 100))}`,
    );
  }
  const mediaType = specific ?? (own === undefined ? undefined : mediaTypeOf(own));
  if (mediaType === undefined) {
    throw new SigwardError('REGISTRY_RESPONSE_INVALID', `${subject(ctx)}: manifest has no media type`);
  }
  return mediaType;
}
