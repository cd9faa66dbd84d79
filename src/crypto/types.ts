export type KeyAlgorithm = 'ecdsa-p256' | 'ecdsa-p384' | 'ecdsa-p521' | 'rsa' | 'ed25519';

/** A parsed, usable public key. */
export interface PublicKey {
  readonly algorithm: KeyAlgorithm;
  /** SubjectPublicKeyInfo DER. */
  readonly spki: Uint8Array;
  /** Hex SHA-256 of the SPKI DER: a stable identity for caches and messages. */
  readonly id: string;
}
