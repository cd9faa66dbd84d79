import { LRUCache } from 'lru-cache';
import type { SignatureCandidate } from '../cosign/types.js';
import { checkSignature, type CheckOutcome } from './check.js';
import type { Authority } from './types.js';

export interface CheckCacheOptions {
  /** Outcomes kept at most. */
  readonly max: number;
  /** Bytes kept at most, counted as the payloads and messages the outcomes hold. */
  readonly maxBytes: number;
  /** The check whose outcomes are kept; checkSignature unless a test counts calls. */
  readonly check?: typeof checkSignature;
}

/** Room an outcome takes besides what it holds: the key, the object, the strings' headers. */
const ENTRY_OVERHEAD_BYTES = 256;

/**
 * Remembers what checking one stored signature against one authority gave, for a digest. A
 * check reads nothing but the signature's bytes (its fingerprint names them) and the
 * authority, which is immutable: a changed policy compiles to new Authority objects, so an
 * outcome is never reused for a policy it was not made under. A manifest of bad signatures
 * pushed once therefore costs its public-key operations once, not again on every replay of
 * the review after its verdict expired. Bounded by entries and by bytes.
 */
export class CheckCache {
  private readonly outcomes: LRUCache<string, CheckOutcome>;
  private readonly ids = new WeakMap<Authority, number>();
  private nextId = 0;
  private readonly checkOne: typeof checkSignature;

  constructor(options: CheckCacheOptions) {
    this.checkOne = options.check ?? checkSignature;
    this.outcomes = new LRUCache<string, CheckOutcome>({
      max: options.max,
      maxSize: options.maxBytes,
      sizeCalculation: (outcome) => ENTRY_OVERHEAD_BYTES + (outcome.ok ? outcome.signature.payload.length : 2 * outcome.message.length),
    });
  }

  async check(candidate: SignatureCandidate, authority: Authority, digest: string): Promise<CheckOutcome> {
    const key = `${this.idOf(authority)}|${digest}|${candidate.fingerprint}`;
    const known = this.outcomes.get(key);
    if (known !== undefined) return relocated(known, candidate);
    const outcome = await this.checkOne(candidate, authority, digest);
    this.outcomes.set(key, outcome);
    return outcome;
  }

  private idOf(authority: Authority): number {
    let id = this.ids.get(authority);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(authority, id);
    }
    return id;
  }
}

/** The same signature found at another place (another layer index, another tag) says so. */
function relocated(outcome: CheckOutcome, candidate: SignatureCandidate): CheckOutcome {
  if (!outcome.ok || outcome.signature.location === candidate.location) return outcome;
  return { ok: true, signature: { ...outcome.signature, location: candidate.location } };
}
