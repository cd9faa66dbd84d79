import { sha256Hex, digestOf } from '../crypto/hash.js';
import { SigwardError } from '../errors.js';
import type { Repository } from '../reference/types.js';
import type { Descriptor, Registry, RequestOptions } from '../registry/types.js';
import type { SignatureCandidate, SignatureFailure } from './types.js';

/**
 * How much one signature source (the `.sig` tag, the bundles of the referrers API or its
 * fallback tag, the `.att` tag) may make sigward do for one digest. Whoever can push to the
 * signature repository controls what a source holds, so every bound is enforced before the work
 * it bounds: counted and summed from what manifests declare, before a blob is fetched or a
 * signature checked. A source past a bound fails as a whole with its own code; it is never
 * walked partly, so what is judged does not depend on the order a registry lists things in.
 */
export const SIGNATURE_LIMITS = {
  /**
   * Distinct signatures checked per source. cosign reads up to 1000 layers, but each distinct
   * signature is one public-key operation per authority (about 12 ms for P-384 here), so 1000
   * of them would outlast the webhook's deadline. Identical layers count once.
   */
  candidates: 64,
  /** Bytes of distinct blobs fetched per source (payloads, bundles, envelopes): bounds memory. */
  sourceBytes: 4 * 1024 * 1024,
  /** Entries of a referrers listing looked at, of any artifact type. */
  referrerEntries: 1024,
} as const;

/**
 * A stable name for one signature as stored: its blob and its layer's annotations (where a
 * legacy layer keeps its signature, certificate and log entry). Two layers with the same name
 * are the same signature and are checked once; a verdict on it can be reused for as long as the
 * authority that judged it is unchanged, since a check reads nothing but these bytes.
 */
export function candidateFingerprint(descriptor: Descriptor, annotations: Readonly<Record<string, string>>): string {
  const sorted = Object.keys(annotations).sort().map((key) => [key, annotations[key]]);
  return sha256Hex(new TextEncoder().encode(JSON.stringify([descriptor.digest, descriptor.mediaType, sorted])));
}

/**
 * Refuses a source that holds more distinct signatures than sigward checks. `count` is taken
 * after duplicates are removed.
 */
export function assertCandidateCount(count: number, where: string): void {
  if (count > SIGNATURE_LIMITS.candidates) {
    throw new SigwardError(
      'TOO_MANY_SIGNATURES',
      `${where}: ${count} distinct signatures, more than the ${SIGNATURE_LIMITS.candidates} sigward checks for one digest`,
    );
  }
}

/**
 * Fetches the blobs of one source, each digest once however many layers name it, within the
 * source's byte budget. Every blob is checked against its descriptor (size and sha256): the
 * signed bytes must be the bytes the manifest names, whatever Registry implementation served them.
 */
export class SourceBlobs {
  private readonly fetched = new Map<string, Promise<Uint8Array>>();
  private readonly reserved = new Set<string>();
  private reservedBytes = 0;

  constructor(
    private readonly registry: Registry,
    private readonly repo: Repository,
    private readonly where: string,
    private readonly options: RequestOptions,
    /** What one blob is, for messages ("payload", "bundle"), and the most bytes one may have. */
    private readonly blob: { readonly what: string; readonly maxBytes: number },
  ) {}

  /**
   * Counts the blobs about to be fetched against the budget, each digest once; throws
   * SIGNATURES_TOO_LARGE when they would pass it, before any of them is fetched. A blob larger
   * than one may be is not counted: it fails on its own, unfetched.
   */
  reserve(descriptors: readonly Descriptor[]): void {
    const added = new Map<string, number>();
    for (const { digest, size } of descriptors) {
      if (!this.reserved.has(digest) && size <= this.blob.maxBytes) added.set(digest, size);
    }
    let total = this.reservedBytes;
    for (const size of added.values()) total += size;
    if (total > SIGNATURE_LIMITS.sourceBytes) {
      throw new SigwardError(
        'SIGNATURES_TOO_LARGE',
        `${this.where}: signature blobs of ${total} bytes in all, more than the ${SIGNATURE_LIMITS.sourceBytes} sigward reads for one digest`,
      );
    }
    this.reservedBytes = total;
    for (const digest of added.keys()) this.reserved.add(digest);
  }

  /** The blob's bytes; a digest already fetched by this source is not fetched again. */
  get(descriptor: Descriptor): Promise<Uint8Array> {
    if (!this.reserved.has(descriptor.digest)) this.reserve([descriptor]);
    // Keyed by size too: a second layer that names the digest with another size must fail its
    // own check, not be handed the first layer's bytes.
    const key = `${descriptor.digest}/${descriptor.size}`;
    let bytes = this.fetched.get(key);
    if (bytes === undefined) {
      bytes = this.fetch(descriptor);
      this.fetched.set(key, bytes);
    }
    return bytes;
  }

  private async fetch(descriptor: Descriptor): Promise<Uint8Array> {
    const { what, maxBytes } = this.blob;
    if (descriptor.size > maxBytes) {
      throw new SigwardError('PAYLOAD_TOO_LARGE', `${what} ${descriptor.digest} declares ${descriptor.size} bytes, more than the ${maxBytes} it may have`);
    }
    const bytes = await this.registry.getBlob(this.repo, descriptor, { ...this.options, maxBytes });
    if (bytes.length !== descriptor.size || digestOf(bytes) !== descriptor.digest) {
      throw new SigwardError('BLOB_DIGEST_MISMATCH', `${what} bytes do not match ${descriptor.digest} (${descriptor.size} bytes)`);
    }
    return bytes;
  }
}

/** A layer of a source, planned before anything is fetched: where it is, its blob, its name. */
export interface PlannedCandidate {
  readonly location: string;
  readonly descriptor: Descriptor;
  readonly fingerprint: string;
  /** Legacy `.sig` layers: the decoded signature annotation; empty for bundles and envelopes. */
  readonly signature?: Uint8Array;
}

/**
 * Fetches a planned layer's blob (once per digest, through the source's budget) and makes it a
 * candidate; a registry or content failure of that layer is a failure of it alone, unless the
 * review was abandoned, which stops the whole source.
 */
export async function fetchCandidate(
  blobs: SourceBlobs,
  planned: PlannedCandidate,
  format: SignatureCandidate['format'],
  options: RequestOptions,
): Promise<{ readonly candidate: SignatureCandidate } | { readonly failure: SignatureFailure }> {
  const { location, descriptor, fingerprint } = planned;
  try {
    const payload = await blobs.get(descriptor);
    const annotations = descriptor.annotations ?? {};
    const signature = planned.signature ?? new Uint8Array(0);
    return { candidate: { location, format, descriptor, payload, signature, annotations, fingerprint } };
  } catch (err) {
    if (!(err instanceof SigwardError) || options.signal?.aborted === true) throw err;
    return { failure: { location, code: err.code, message: err.message } };
  }
}
