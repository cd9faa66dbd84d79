import { createHash, X509Certificate } from 'node:crypto';
import { ANNOTATION, COSIGN } from '../constants.js';
import type { PublicKey } from '../crypto/types.js';
import { parseSimpleSigningPayload } from '../cosign/payload.js';
import { SigwardError } from '../errors.js';
import { parseBundle } from './bundle.js';
import { messageContent } from './content.js';
import { isObject } from './fields.js';
import type { BundleProof, KeylessAuthority, RekorTrust, SigstoreBundle } from './types.js';
import { verifyWithKey } from './verify-key.js';
import { verifyKeyless } from './verify-keyless.js';

/** A legacy `.sig` (or `.att`) layer: its exact payload bytes, decoded signature and annotations. */
export interface LegacyKeylessSignature {
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * Verifies a legacy keyless signature (cosign-spec §1.2, §1.5): the layer's
 * `dev.sigstore.cosign/certificate` must pass every keyless check a bundle passes (Fulcio
 * chain at the signing time, SCT, identity), the `dev.sigstore.cosign/bundle` SET must verify
 * with the root's Rekor key and its entry record this signature over this payload, and the
 * payload must then name the admitted digest and carry the required annotations. The
 * `dev.sigstore.cosign/chain` annotation is not used: the path to Fulcio is built from the
 * trusted root alone, as sigstore-go builds it, so a layer cannot bring its own CA.
 */
export function verifyLegacyKeyless(
  layer: LegacyKeylessSignature,
  expected: { readonly digest: string; readonly annotations?: Readonly<Record<string, string>> },
  authority: KeylessAuthority,
): BundleProof {
  const certificate = layer.annotations[ANNOTATION.certificate];
  if (certificate === undefined) {
    throw new SigwardError('CERTIFICATE_INVALID', `layer has no ${ANNOTATION.certificate} annotation`);
  }
  const material = { x509CertificateChain: { certificates: [{ rawBytes: certificateDer(certificate) }] } };
  const bundle = parseBundle(new TextEncoder().encode(JSON.stringify(asBundle(layer, material))), { minVersion: '0.1' });
  if (bundle.content.kind !== 'message') throw new SigwardError('INTERNAL', 'legacy signature did not become a message signature');
  const proof = verifyKeyless(bundle, messageContent(bundle.content.message, layer.payload), authority, layer.payload);
  bindPayload(layer.payload, expected);
  return proof;
}

/**
 * Proves that a legacy signature made with `key` was logged (cosign-spec §1.5, `VerifyBundle`):
 * the layer's `dev.sigstore.cosign/bundle` SET must verify with one of the Rekor keys, and the
 * entry must record this signature, over this payload's SHA-256, made by this key. A layer with
 * no such annotation is TLOG_MISSING: an authority that names a Rekor key refuses signatures
 * that were never logged, which is what makes a stolen key's quiet use visible.
 */
export function verifyLegacyTransparency(layer: LegacyKeylessSignature, key: PublicKey, rekor: RekorTrust): BundleProof {
  if (layer.annotations[ANNOTATION.rekorBundle] === undefined) {
    throw new SigwardError('TLOG_MISSING', `layer has no ${ANNOTATION.rekorBundle} annotation, and the authority requires a transparency-log entry`);
  }
  const bundle = parseBundle(new TextEncoder().encode(JSON.stringify(asBundle(layer, { publicKey: {} }))), { minVersion: '0.1' });
  if (bundle.content.kind !== 'message') throw new SigwardError('INTERNAL', 'legacy signature did not become a message signature');
  return verifyWithKey(bundle, messageContent(bundle.content.message, layer.payload), { kind: 'key', key, rekor });
}

/**
 * A legacy `.att` layer (cosign-spec §1.7) as the v0.1 bundle it is equivalent to: the layer's
 * blob is the DSSE envelope, and a keyless signer's certificate and Rekor bundle sit in its
 * annotations (a key signer has none: the authority's key is the material). The result is
 * verified as any bundle is, with verifyImageBundle and the predicate type asked for.
 */
export function legacyAttestationBundle(layer: LegacyKeylessSignature): SigstoreBundle {
  const certificate = layer.annotations[ANNOTATION.certificate];
  const material = certificate === undefined
    ? { publicKey: {} }
    : { x509CertificateChain: { certificates: [{ rawBytes: certificateDer(certificate) }] } };
  let envelope: unknown;
  try {
    envelope = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(layer.payload));
  } catch (err) {
    throw new SigwardError('BUNDLE_INVALID', 'attestation layer is not a DSSE envelope: not JSON', { cause: err });
  }
  if (!isObject(envelope)) throw new SigwardError('BUNDLE_INVALID', 'attestation layer is not a DSSE envelope: not a JSON object');
  const { payloadType, payload, signatures } = envelope;
  return parseBundle(new TextEncoder().encode(JSON.stringify(asBundle(layer, material, { dsseEnvelope: { payloadType, payload, signatures } }))), {
    minVersion: '0.1',
  });
}

/** The layer restated as the v0.1 bundle it is equivalent to: by default a message signature over the payload. */
function asBundle(layer: LegacyKeylessSignature, material: Record<string, unknown>, content?: Record<string, unknown>): Record<string, unknown> {
  const timestamp = annotationJson(layer, ANNOTATION.rfc3161Timestamp)?.SignedRFC3161Timestamp;
  return {
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: {
      ...material,
      tlogEntries: rekorEntries(layer),
      ...(typeof timestamp === 'string' ? { timestampVerificationData: { rfc3161Timestamps: [{ signedTimestamp: timestamp }] } } : {}),
    },
    ...(content ?? {
      messageSignature: {
        messageDigest: { algorithm: 'SHA2_256', digest: createHash('sha256').update(layer.payload).digest('base64') },
        signature: Buffer.from(layer.signature).toString('base64'),
      },
    }),
  };
}

/** `{SignedEntryTimestamp, Payload: {body, integratedTime, logIndex, logID}}` as a bundle's tlog entry. */
function rekorEntries(layer: LegacyKeylessSignature): unknown[] {
  const rekor = annotationJson(layer, ANNOTATION.rekorBundle);
  if (rekor === undefined) return [];
  const payload = rekor.Payload;
  const body = isObject(payload) && typeof payload.body === 'string' ? decodeBody(payload.body) : undefined;
  if (!isObject(payload) || body === undefined || typeof payload.logID !== 'string' || !/^[0-9a-f]{64}$/.test(payload.logID)) {
    throw new SigwardError('TLOG_INVALID', `${ANNOTATION.rekorBundle} annotation is not a Rekor bundle`);
  }
  return [{
    logIndex: payload.logIndex,
    logId: { keyId: Buffer.from(payload.logID, 'hex').toString('base64') },
    kindVersion: { kind: body.kind, version: body.apiVersion },
    integratedTime: payload.integratedTime,
    inclusionPromise: { signedEntryTimestamp: rekor.SignedEntryTimestamp },
    canonicalizedBody: payload.body,
  }];
}

function decodeBody(base64: string): Record<string, unknown> | undefined {
  try {
    const body: unknown = JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
    return isObject(body) ? body : undefined;
  } catch {
    return undefined;
  }
}

function annotationJson(layer: LegacyKeylessSignature, name: string): Record<string, unknown> | undefined {
  const text = layer.annotations[name];
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (isObject(value)) return value;
  } catch {
    // reported below
  }
  throw new SigwardError(name === ANNOTATION.rekorBundle ? 'TLOG_INVALID' : 'TIMESTAMP_INVALID', `${name} annotation is not a JSON object`);
}

function certificateDer(pem: string): string {
  try {
    return new X509Certificate(pem).raw.toString('base64');
  } catch (err) {
    throw new SigwardError('CERTIFICATE_INVALID', `${ANNOTATION.certificate} annotation is not a PEM certificate`, { cause: err });
  }
}

/** Only after the signature and certificate verified: the payload names the admitted digest (cosign-spec §1.6). */
function bindPayload(bytes: Uint8Array, expected: { readonly digest: string; readonly annotations?: Readonly<Record<string, string>> }): void {
  const payload = parseSimpleSigningPayload(bytes);
  if (payload.critical.type !== COSIGN.signatureType) {
    throw new SigwardError('PAYLOAD_INVALID', `critical.type is not "${COSIGN.signatureType}"`);
  }
  if (payload.critical.image['docker-manifest-digest'] !== expected.digest) {
    throw new SigwardError('CLAIM_MISMATCH', `payload signs another digest than the admitted ${expected.digest}`);
  }
  const optional = payload.optional ?? {};
  for (const [name, value] of Object.entries(expected.annotations ?? {})) {
    if (!Object.hasOwn(optional, name) || optional[name] !== value) {
      throw new SigwardError('ANNOTATION_MISMATCH', `annotation ${JSON.stringify(name)} is not ${JSON.stringify(value)}`);
    }
  }
}
