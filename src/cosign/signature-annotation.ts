import { ANNOTATION } from '../constants.js';
import { SigwardError } from '../errors.js';

/** An RSA-4096 signature is 684 base64 characters; anything far beyond is not a signature. */
const MAX_SIGNATURE_CHARS = 16 * 1024;
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Decodes the `dev.cosignproject.cosign/signature` annotation of a simple-signing layer
 * (cosign-spec §1.2): standard padded base64. Line breaks are dropped first, as Go's decoder
 * does (real BYO-PKI signatures carry them). Anything else is refused rather than guessed at:
 * node's own base64 decoder would silently skip foreign characters.
 */
export function decodeSignatureAnnotation(annotations: Readonly<Record<string, string>>): Uint8Array {
  const value = annotations[ANNOTATION.signature];
  if (value === undefined || value === '') {
    throw new SigwardError('SIGNATURE_MISSING', `layer has no ${ANNOTATION.signature} annotation`);
  }
  if (value.length > MAX_SIGNATURE_CHARS) {
    throw new SigwardError('SIGNATURE_MALFORMED', `${ANNOTATION.signature} annotation is ${value.length} characters long`);
  }
  const base64 = value.replace(/[\r\n]/g, '');
  if (!STD_BASE64.test(base64)) {
    throw new SigwardError('SIGNATURE_MALFORMED', `${ANNOTATION.signature} annotation is not standard base64`);
  }
  return new Uint8Array(Buffer.from(base64, 'base64'));
}
