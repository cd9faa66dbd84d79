import type { DsseEnvelope, MessageSignature } from './types.js';

/** What a bundle's signature covers, exactly as signed. */
export interface SignedContent {
  /** The DSSE pre-authentication encoding, or the artifact of a message signature. */
  readonly bytes: Uint8Array;
  readonly signature: Uint8Array;
  /** DSSE only: the payload, whose digest `dsse` and `intoto` log entries record. */
  readonly dssePayload?: Uint8Array;
}

/**
 * DSSE signs PAE(type, payload) = "DSSEv1" SP len(type) SP type SP len(payload) SP payload,
 * lengths in ASCII decimal bytes (cosign-spec §1.7): binding the type stops a payload signed as
 * one type from being read as another.
 */
export function dsseContent(envelope: DsseEnvelope): SignedContent {
  return { bytes: preAuthEncoding(envelope.payloadType, envelope.payload), signature: envelope.signature, dssePayload: envelope.payload };
}

/** A message signature signs the artifact itself; the bundle's digest is only a hint. */
export function messageContent(message: MessageSignature, artifact: Uint8Array): SignedContent {
  return { bytes: artifact, signature: message.signature };
}

export function preAuthEncoding(payloadType: string, payload: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode(payloadType);
  const header = new TextEncoder().encode(`DSSEv1 ${type.length} ${payloadType} ${payload.length} `);
  const pae = new Uint8Array(header.length + payload.length);
  pae.set(header);
  pae.set(payload, header.length);
  return pae;
}
