import type { Bundle as LibraryBundle } from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import type { PublicKey } from '../crypto/types.js';

/** Bundle format versions (protobuf-specs `sigstore_bundle.proto`); registries serve 0.3. */
export type BundleVersion = '0.1' | '0.2' | '0.3';

export interface DsseEnvelope {
  readonly payloadType: string;
  /** The decoded payload: the bytes the signature's PAE covers. */
  readonly payload: Uint8Array;
  /** The one signature a sigstore bundle's envelope carries. */
  readonly signature: Uint8Array;
}

export type MessageDigestAlgorithm = 'SHA2_256' | 'SHA2_384' | 'SHA2_512';

export interface MessageSignature {
  readonly digestAlgorithm: MessageDigestAlgorithm;
  /** A hint only: the signature covers the artifact itself, so verification recomputes it. */
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

export type BundleContent =
  | { readonly kind: 'dsse'; readonly envelope: DsseEnvelope }
  | { readonly kind: 'message'; readonly message: MessageSignature };

export type VerificationMaterial =
  /** Signed with a key the verifier must already trust; the hint names it but proves nothing. */
  | { readonly kind: 'publicKey'; readonly hint?: string }
  /** Signed with a Fulcio certificate: `certificate` is the leaf DER, `chain` any certificates after it (v0.1/v0.2). */
  | { readonly kind: 'certificate'; readonly certificate: Uint8Array; readonly chain: readonly Uint8Array[] };

export interface InclusionProof {
  readonly logIndex: bigint;
  readonly rootHash: Uint8Array;
  readonly treeSize: bigint;
  readonly hashes: readonly Uint8Array[];
  /** The log's signed note committing to `treeSize` and `rootHash`. */
  readonly checkpoint?: string;
}

/** One transparency-log entry of a bundle (`TransparencyLogEntry`). */
export interface TlogEntry {
  readonly logIndex: bigint;
  /** SHA-256 of the log's key (Rekor v1), or the log's signed-note key ID (Rekor v2). */
  readonly logId: Uint8Array;
  readonly kind: string;
  readonly version: string;
  /** Unix seconds; absent (or 0) for Rekor v2, which records no time. */
  readonly integratedTime?: bigint;
  readonly signedEntryTimestamp?: Uint8Array;
  readonly inclusionProof?: InclusionProof;
  /** The canonicalized entry body: the Merkle leaf, and what the SET signs. */
  readonly body: Uint8Array;
}

/** A parsed sigstore bundle; build it with parseBundle, never by hand. */
export interface SigstoreBundle {
  readonly mediaType: string;
  readonly version: BundleVersion;
  readonly content: BundleContent;
  readonly material: VerificationMaterial;
  readonly tlogEntries: readonly TlogEntry[];
  /** DER RFC 3161 `TimeStampResponse`s over the signature. */
  readonly rfc3161Timestamps: readonly Uint8Array[];
  /** The same bundle in @sigstore/bundle's form, for the certificate checks made by @sigstore/verify. */
  readonly library: LibraryBundle;
}

/** A transparency log whose signatures sigward accepts (one `tlogs` entry of a trusted root). */
export interface TransparencyLog {
  readonly baseUrl: string;
  readonly logId: Uint8Array;
  /** The key ID whose first four bytes prefix the log's checkpoint signatures. */
  readonly checkpointKeyId: Uint8Array;
  readonly key: PublicKey;
  readonly validFrom?: Date;
  readonly validUntil?: Date;
}

/** A parsed `trusted_root.json`; build it with parseTrustedRoot. */
export interface TrustedRoot {
  readonly tlogs: readonly TransparencyLog[];
  /** Fulcio CAs, CT logs and timestamp authorities in @sigstore/verify's form. */
  readonly material: TrustMaterial;
}

/** Rekor keys given one by one (Rekor v1 logs, whose log ID is the key's SHA-256), or a trusted root. */
export type RekorTrust = { readonly publicKeys: readonly PublicKey[] } | TrustedRoot;

/**
 * Verify with one key. Without `rekor` no transparency-log entry is needed or read (as
 * `cosign verify --key --insecure-ignore-tlog`); with it, every entry must verify against it.
 */
export interface KeyAuthority {
  readonly kind: 'key';
  readonly key: PublicKey;
  readonly rekor?: RekorTrust;
}

/** Verify a Fulcio certificate's identity: `issuer` exactly or `issuerRegExp` (anchored), and
 * `subject` exactly or `subjectRegExp` (anchored). */
export interface KeylessAuthority {
  readonly kind: 'keyless';
  readonly issuer?: string;
  readonly issuerRegExp?: string;
  readonly subject?: string;
  readonly subjectRegExp?: string;
  readonly trustedRoot: TrustedRoot;
  /** `--insecure-ignore-sct`: no SCT from a CT log of the trusted root is required. */
  readonly ignoreSct?: boolean;
}

export type BundleAuthority = KeyAuthority | KeylessAuthority;

/** What the admitted image must be for a bundle to count. */
export interface ExpectedImage {
  /** `sha256:<hex>`: the digest being admitted. */
  readonly digest: string;
  /** Annotations the statement's matching subject must carry with these exact values. */
  readonly annotations?: Readonly<Record<string, string>>;
  /** Defaults to cosign's signature predicate; name another to verify an attestation. */
  readonly predicateType?: string;
}

export interface StatementSubject {
  readonly name?: string;
  readonly digest: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, unknown>>;
}

/** An in-toto statement, parsed only after the signature over it verified. */
export interface InTotoStatement {
  readonly type: string;
  readonly predicateType: string;
  readonly subjects: readonly StatementSubject[];
}

export type BundleSigner =
  | { readonly kind: 'key'; readonly keyId: string }
  | { readonly kind: 'keyless'; readonly issuer: string; readonly subject: string };

/** What verifying a bundle proved, whatever it was bound to. */
export interface BundleProof {
  readonly signer: BundleSigner;
  /** Verified signing times: Rekor integrated times with a verified SET, RFC 3161 times. */
  readonly signingTimes: readonly Date[];
  /** Log indexes of the transparency-log entries that verified (none when no log was required). */
  readonly logIndexes: readonly bigint[];
}

/** A bundle verified for an image: its proof plus the statement that names the image. */
export interface VerifiedBundle extends BundleProof {
  readonly statement: InTotoStatement;
  /** The exact DSSE payload bytes (the statement), for output. */
  readonly payload: Uint8Array;
}

/** A bundle verified for a blob (sigstore's `verify-blob`; the conformance suite's artifacts). */
export interface VerifiedArtifact extends BundleProof {
  readonly statement?: InTotoStatement;
  /** With a statement: the exact DSSE payload bytes it was read from, for output. */
  readonly payload?: Uint8Array;
}
