import { createHash, X509Certificate, type KeyObject } from 'node:crypto';
import { parsePublicKey } from '../crypto/keys.js';
import type { PublicKey } from '../crypto/types.js';
import { SigwardError } from '../errors.js';

/** A sigward key from DER: SPKI, or PKCS#1 for RSA keys that trusted roots mark `PKCS1_RSA_PKCS1V5`. */
export function publicKeyFromDer(der: Uint8Array, format: 'spki' | 'pkcs1' = 'spki'): PublicKey {
  const label = format === 'spki' ? 'PUBLIC KEY' : 'RSA PUBLIC KEY';
  return parsePublicKey(pem(label, der));
}

/** The key a certificate certifies, as sigward verifies with it. */
export function publicKeyOfCertificate(der: Uint8Array): PublicKey {
  return publicKeyFromKeyObject(parseCertificate(der).publicKey);
}

export function publicKeyFromKeyObject(key: KeyObject): PublicKey {
  return parsePublicKey(key.export({ type: 'spki', format: 'pem' }).toString());
}

export function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw new SigwardError('CERTIFICATE_INVALID', 'not a DER X.509 certificate', { cause: err });
  }
}

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function pem(label: string, der: Uint8Array): string {
  const lines = Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
