import { setImmediate as nextTurn } from 'node:timers/promises';
import type { SignatureCandidate } from '../cosign/types.js';
import { describeError, errorCode, SigwardError, type ErrorCode } from '../errors.js';
import type { ImageReference, Repository } from '../reference/types.js';
import type { Registry } from '../registry/types.js';
import type { PlatformRule } from '../policy/platforms.js';
import { discoverSignatures, type Discovery } from './discover.js';
import { verifyUnderRule, type PlatformDeps } from './platforms.js';
import { checkSignature, type CheckOutcome } from './check.js';
import type { CheckCache } from './check-cache.js';
import { sharedLoad, type Memo } from './shared-load.js';
import type { Authority, AuthorityVerdict, VerificationPhase, VerifyOptions } from './types.js';

export type { Memo };

export interface VerifierOptions {
  readonly registry: Registry;
  /** tag → digest, keyed by `name:tag`; entries must expire quickly (tags move). */
  readonly digests?: Memo<string>;
  /** signatures found for a digest, keyed by `signatureRepo@digest`. */
  readonly discoveries?: Memo<Discovery>;
  /** Outcomes of signature checks, shared by every verifier of a process (see CheckCache). */
  readonly checks?: CheckCache;
  /**
   * How long a shared load (a digest, a discovery) may run under its own signal: no caller's
   * deadline ends it, this does. The server passes its review budget.
   */
  readonly loadBudgetMs?: number;
  readonly onVerification?: (result: 'verified' | 'failed') => void;
  /** Told how long each resolve, discovery and check loop took (metrics). */
  readonly onPhase?: (phase: VerificationPhase, seconds: number) => void;
}

/** A shared load's budget when none is given: generous, since a registry request has its own timeout. */
export const DEFAULT_LOAD_BUDGET_MS = 60_000;

/** Failures listed per authority; past this the rest are counted, so a deny stays readable. */
export const MAX_FAILURES_LISTED = 10;

/**
 * Verifies images the way `cosign verify --key` does, step by step (docs/design.md §4):
 * resolve the reference to a digest, discover the signatures stored for that digest, verify each
 * against each authority's key over the exact payload bytes, and bind the payload to the digest.
 */
export class Verifier {
  private readonly registry: Registry;
  private readonly platformDeps: PlatformDeps;
  private readonly digests: Memo<string> | undefined;
  private readonly discoveries: Memo<Discovery> | undefined;
  private readonly loadBudgetMs: number;
  private readonly check: (candidate: SignatureCandidate, authority: Authority, digest: string) => Promise<CheckOutcome>;
  private readonly onVerification: ((result: 'verified' | 'failed') => void) | undefined;
  private readonly onPhase: ((phase: VerificationPhase, seconds: number) => void) | undefined;

  constructor(options: VerifierOptions) {
    this.registry = options.registry;
    this.platformDeps = {
      registry: options.registry,
      verifyDigest: (image, digest, authorities, verifyOptions) => this.verifyDigest(image, digest, authorities, verifyOptions),
      resolve: (ref, verifyOptions) => this.resolve(ref, verifyOptions),
    };
    this.digests = options.digests;
    this.discoveries = options.discoveries;
    this.loadBudgetMs = options.loadBudgetMs ?? DEFAULT_LOAD_BUDGET_MS;
    const { checks } = options;
    this.check = checks === undefined ? checkSignature : (candidate, authority, digest) => checks.check(candidate, authority, digest);
    this.onVerification = options.onVerification;
    this.onPhase = options.onPhase;
  }

  /**
   * The digest to verify. A reference that carries a digest is verified at that digest with no
   * manifest request, whatever its tag says (as cosign does): the signature lookup alone proves or
   * refutes it, and a tag cannot smuggle in another image.
   */
  async resolve(ref: ImageReference, options: VerifyOptions = {}): Promise<string> {
    if (ref.digest !== undefined) return ref.digest;
    const tag = ref.tag ?? 'latest';
    const load = (signal: AbortSignal): Promise<string> =>
      this.timed('resolve', async () => (await this.registry.resolve(ref, tag, { ...options, signal })).digest);
    return sharedLoad(this.digests, `${ref.name}:${tag}`, load, options.signal, this.loadBudgetMs);
  }

  /** Verifies every authority at the digests a policy's platform rule requires (verify/platforms.ts). */
  verifyForPolicy(ref: ImageReference, digest: string, rule: PlatformRule, authorities: readonly Authority[], options: VerifyOptions = {}): Promise<AuthorityVerdict[]> {
    return verifyUnderRule(this.platformDeps, ref, digest, rule, authorities, options);
  }

  /** Verifies every authority against the signatures stored for `digest` of `image`. */
  async verifyDigest(
    image: Repository,
    digest: string,
    authorities: readonly Authority[],
    options: VerifyOptions = {},
  ): Promise<AuthorityVerdict[]> {
    // Legacy `.att` tags are read only when an authority asks for an attestation: for the
    // others they hold nothing that counts, and a cold admission saves the round trip.
    const attestations = authorities.some((a) => a.attestation !== undefined);
    const byRepository = new Map<string, Promise<Discovery>>();
    const discover = (authority: Authority): Promise<Discovery> => {
      const repo = authority.signatureRepository ?? image;
      // An authority's own signature credentials see what others may not: their discovery is kept apart.
      const own = authority.signatureCredentials;
      const key = `${own === undefined ? '' : `${own.scope}|`}${repo.name}@${digest}${attestations ? '+att' : ''}`;
      let found = byRepository.get(key);
      if (!found) {
        const credentials = own === undefined ? options.credentials : [own.provider, ...[options.credentials ?? []].flat()];
        const load = (signal: AbortSignal): Promise<Discovery> =>
          this.timed('discover', () => discoverSignatures(this.registry, repo, digest, { signal, attestations, ...(credentials === undefined ? {} : { credentials }) }));
        found = sharedLoad(this.discoveries, key, load, options.signal, this.loadBudgetMs);
        byRepository.set(key, found);
      }
      return found;
    };
    return Promise.all(
      authorities.map(async (authority) => {
        const verdict = await this.verifyAuthority(authority, digest, () => discover(authority), options.signal);
        this.onVerification?.(verdict.verified ? 'verified' : 'failed');
        return verdict;
      }),
    );
  }

  /**
   * Checks the discovered signatures against one authority, one at a time, giving the event loop
   * back before each: a check is a public-key operation (milliseconds for P-384), and a review
   * with many signatures must not hold up the others or the health probe. The review's deadline
   * is looked at between checks, so an abandoned review stops costing CPU at once; it rejects
   * with DEADLINE_EXCEEDED then.
   */
  private async verifyAuthority(
    authority: Authority,
    digest: string,
    discover: () => Promise<Discovery>,
    signal: AbortSignal | undefined,
  ): Promise<AuthorityVerdict> {
    let discovery: Discovery;
    try {
      discovery = await discover();
    } catch (err) {
      if (signal?.aborted === true) throw abandoned();
      return failed(authority, [{ code: errorCode(err), message: describeError(err) }]);
    }
    const failures: { code: ErrorCode; message: string }[] = [...discovery.failures];
    const signatures = [];
    const started = performance.now();
    for (const candidate of discovery.candidates) {
      await nextTurn();
      if (signal?.aborted === true) throw abandoned();
      const outcome = await this.check(candidate, authority, digest);
      if (outcome.ok) signatures.push(outcome.signature);
      else failures.push({ code: outcome.code, message: `${candidate.location}: ${outcome.message}` });
    }
    if (discovery.candidates.length > 0) this.onPhase?.('verify', (performance.now() - started) / 1000);
    if (signatures.length > 0) return { authority: authority.name, verified: true, signatures, failures: [] };
    if (discovery.candidates.length === 0 && discovery.failures.length === 0) {
      failures.push({ code: 'NO_SIGNATURES', message: `no signatures found (looked in ${discovery.searched.join(', ')})` });
    }
    return failed(authority, failures);
  }

  /** Runs a load and reports its duration when it settles, whatever the outcome. */
  private async timed<T>(phase: VerificationPhase, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.onPhase?.(phase, (performance.now() - started) / 1000);
    }
  }
}

/**
 * A verification cut short by its deadline is thrown, not returned: a verdict is cached, and
 * "not checked in time" is not a property of the image. Callers decide it as unfinished.
 */
function abandoned(): SigwardError {
  return new SigwardError('DEADLINE_EXCEEDED', 'the review ended before every signature was checked');
}

function failed(authority: Authority, failures: { code: ErrorCode; message: string }[]): AuthorityVerdict {
  if (failures.length <= MAX_FAILURES_LISTED) return { authority: authority.name, verified: false, signatures: [], failures };
  const listed = failures.slice(0, MAX_FAILURES_LISTED);
  const rest = failures.length - MAX_FAILURES_LISTED;
  const first = failures[MAX_FAILURES_LISTED]!;
  return {
    authority: authority.name,
    verified: false,
    signatures: [],
    failures: [...listed, { code: first.code, message: `and ${rest} more signatures that did not verify`, more: rest }],
  };
}

export type { SignatureCandidate };
