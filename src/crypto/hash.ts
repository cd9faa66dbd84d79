import { createHash } from 'node:crypto';

export type HashAlgorithm = 'sha256' | 'sha384' | 'sha512';

/** The digest of `bytes` under one of the SHA-2 hashes signatures are made over. */
export function hash(algorithm: HashAlgorithm, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash(algorithm).update(bytes).digest());
}

/** Lower-case hex SHA-256 of `bytes`. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The OCI digest string of `bytes`: `sha256:<hex>`, as registries name content. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${sha256Hex(bytes)}`;
}
