/** Sigstore protocol strings and limits (bundle and trusted-root formats, Fulcio, Rekor). */
import { MEDIA_TYPE } from '../constants.js';
import type { BundleVersion } from './types.js';

/** Every bundle media type sigward reads, and the version it names (protobuf-specs `sigstore_bundle.proto`). */
export const BUNDLE_MEDIA_TYPES: Readonly<Record<string, BundleVersion>> = {
  'application/vnd.dev.sigstore.bundle+json;version=0.1': '0.1',
  'application/vnd.dev.sigstore.bundle+json;version=0.2': '0.2',
  'application/vnd.dev.sigstore.bundle+json;version=0.3': '0.3',
  [MEDIA_TYPE.sigstoreBundleV03]: '0.3',
};

export const TRUSTED_ROOT_MEDIA_TYPES: readonly string[] = [
  'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  'application/vnd.dev.sigstore.trustedroot.v0.2+json',
];

export const SIGSTORE_LIMITS = {
  /** A cosign bundle is about 4 KiB, a keyless one about 10 KiB. */
  bundleBytes: 1024 * 1024,
  /** The public-good trusted root is about 20 KiB. */
  trustedRootBytes: 1024 * 1024,
  tlogEntries: 16,
  /** A Merkle path of a tree of 2^64 leaves has 64 hashes. */
  proofHashes: 64,
  timestamps: 8,
  trustedRootEntries: 64,
  certificates: 10,
  /** The note of a checkpoint: origin, size, root hash and a few extension lines. */
  checkpointChars: 64 * 1024,
} as const;

/** DSSE payload type cosign requires of bundles and attestations (`verifyOCIAttestation`). */
export const IN_TOTO_PAYLOAD_TYPE = MEDIA_TYPE.inToto;

export const IN_TOTO_STATEMENT_TYPES: readonly string[] = [
  'https://in-toto.io/Statement/v0.1',
  'https://in-toto.io/Statement/v1',
];
