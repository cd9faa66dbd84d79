import { createPublicKey, X509Certificate } from 'node:crypto';
import { bytesEqual } from '../keys.js';

/** Who signed, as a log entry may name them: the key's SPKI, and for keyless the leaf certificate. */
export interface SignerMaterial {
  readonly spki: Uint8Array;
  readonly certificate?: Uint8Array;
}

const PEM_BLOCK = /^\s*-----BEGIN (CERTIFICATE|PUBLIC KEY)-----([A-Za-z0-9+/=\s]+)-----END \1-----\s*$/;

/** Whether PEM text (as Rekor v1 entries hold it) names the signer: the same certificate, or the same key. */
export function pemNamesSigner(pem: string, signer: SignerMaterial): boolean {
  const block = PEM_BLOCK.exec(pem);
  if (!block) return false;
  const der = new Uint8Array(Buffer.from(block[2]!.replace(/\s/g, ''), 'base64'));
  return block[1] === 'CERTIFICATE' ? certificateNamesSigner(der, signer) : keyNamesSigner(der, signer);
}

/** Rekor v2 verifiers hold DER: a certificate or an SPKI. */
export function certificateNamesSigner(der: Uint8Array, signer: SignerMaterial): boolean {
  if (signer.certificate) return bytesEqual(der, signer.certificate);
  try {
    return bytesEqual(spkiOf(new X509Certificate(der).publicKey), signer.spki);
  } catch {
    return false;
  }
}

export function keyNamesSigner(der: Uint8Array, signer: SignerMaterial): boolean {
  try {
    // Re-encoded by node so that two encodings of one key compare equal.
    return bytesEqual(spkiOf(createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' })), signer.spki);
  } catch {
    return false;
  }
}

function spkiOf(key: ReturnType<typeof createPublicKey>): Uint8Array {
  return new Uint8Array(key.export({ type: 'spki', format: 'der' }));
}
