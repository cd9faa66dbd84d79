import type { AuthorityVerdict } from '../verify/types.js';
import type { AuthorityFailure, CompiledPolicy, ImageAction, ImageDecision, NoMatchAction, PolicyMode, PolicyResult } from './types.js';

/** One matching policy and the verdicts of its authorities for one image. */
export interface PolicyVerdicts {
  readonly policy: CompiledPolicy;
  readonly verdicts: readonly AuthorityVerdict[];
}

export interface DecideOptions {
  /** `--no-match`: the answer for an image no policy matches. Default deny. */
  readonly noMatch?: NoMatchAction;
}

const SEVERITY: Record<ImageAction, number> = { allow: 0, audit: 1, warn: 2, deny: 3 };

/**
 * Folds verdicts into the decision for one image (docs/design.md §2): a policy passes when at least
 * `threshold` of its authorities verified; every matching policy must pass (AND). When some
 * fail, the most severe of their modes decides: a failing enforce policy denies, warn admits
 * with warnings, audit admits and records. No matching policy: the `--no-match` answer; only
 * ImagePolicies matching: their requirements and the `--no-match` answer, the stricter decides.
 */
export function decide(evaluations: readonly PolicyVerdicts[], options: DecideOptions = {}): ImageDecision {
  if (evaluations.length === 0) {
    const noMatch = options.noMatch ?? 'deny';
    return { action: noMatchAction(noMatch), matched: false, passed: false, results: [], reasons: [`no policy matches the image (--no-match ${noMatch})`] };
  }
  const results = evaluations.map(({ policy, verdicts }) => evaluatePolicy(policy, verdicts));
  const failing = results.filter((result) => !result.passed);
  const causes = failing.map((result) => ({ action: failureAction(result.mode), message: result.message }));
  // A namespaced ImagePolicy only adds requirements: whether an image is covered at all is the
  // cluster's decision, so without a matching ClusterImagePolicy the --no-match answer stands
  // beside whatever the ImagePolicies say (docs/design.md §2 "Who may decide what").
  if (!evaluations.some(({ policy }) => policy.kind === 'ClusterImagePolicy')) {
    const noMatch = options.noMatch ?? 'deny';
    const action = noMatchAction(noMatch);
    if (action !== 'allow') causes.push({ action, message: `no ClusterImagePolicy matches the image (--no-match ${noMatch}); an ImagePolicy only adds requirements` });
  }
  const action = causes.reduce<ImageAction>((worst, cause) => (SEVERITY[cause.action] > SEVERITY[worst] ? cause.action : worst), 'allow');
  const reasons = [...causes].sort((a, b) => SEVERITY[b.action] - SEVERITY[a.action]).map((cause) => cause.message);
  return { action, matched: true, passed: causes.length === 0, results, reasons };
}

/**
 * One policy's outcome. An authority counts as verified only when every verdict given for it
 * says so and names a verified signature; an authority with no verdict did not verify (a
 * verifier that gave up, or skipped one, never passes a policy by omission).
 */
export function evaluatePolicy(policy: CompiledPolicy, verdicts: readonly AuthorityVerdict[]): PolicyResult {
  const verified: string[] = [];
  const failed: AuthorityFailure[] = [];
  for (const authority of policy.authorities) {
    const own = verdicts.filter((verdict) => verdict.authority === authority.name);
    const failures = own.flatMap((verdict) => verdictFailures(verdict));
    if (own.length === 0) failures.push({ code: 'INTERNAL', message: 'was not evaluated' });
    if (failures.length === 0) verified.push(authority.name);
    else failed.push({ authority: authority.name, failures });
  }
  for (const { authority, reason } of policy.revoked ?? []) {
    failed.push({ authority, failures: [{ code: 'KEY_INVALID', message: `revoked: ${reason}` }] });
  }
  const passed = verified.length >= Math.max(1, policy.threshold);
  return {
    policy: policy.name,
    kind: policy.kind,
    namespace: policy.namespace,
    mode: policy.mode,
    threshold: policy.threshold,
    passed,
    verified,
    failed: passed ? [] : failed,
    message: describe(policy, verified.length, passed ? [] : failed),
  };
}

function verdictFailures(verdict: AuthorityVerdict): AuthorityFailure['failures'][number][] {
  if (verdict.verified && verdict.signatures.length > 0) return [];
  if (verdict.verified) return [{ code: 'INTERNAL', message: 'reported as verified without a verified signature' }];
  return verdict.failures.length > 0 ? [...verdict.failures] : [{ code: 'NO_MATCHING_SIGNATURES', message: 'no signature verified' }];
}

/** The action for a failing policy. Every mode is spelled out; anything else denies. */
function failureAction(mode: PolicyMode): ImageAction {
  switch (mode) {
    case 'enforce':
      return 'deny';
    case 'warn':
      return 'warn';
    case 'audit':
      return 'audit';
    default:
      return 'deny';
  }
}

function noMatchAction(noMatch: NoMatchAction): ImageAction {
  switch (noMatch) {
    case 'allow':
      return 'allow';
    case 'warn':
      return 'warn';
    case 'deny':
      return 'deny';
    default:
      return 'deny';
  }
}

function describe(policy: CompiledPolicy, verified: number, failed: readonly AuthorityFailure[]): string {
  const label = policy.kind === 'ImagePolicy' ? `ImagePolicy ${policy.namespace ?? ''}/${policy.name}` : `ClusterImagePolicy ${policy.name}`;
  const total = policy.authorities.length + (policy.revoked?.length ?? 0);
  const head = `${label} (${policy.mode}): ${verified} of ${total} authorities verified, ${policy.threshold} required`;
  const details = failed.map((a) => `authority ${a.authority}: ${describeFailures(a.failures)}`);
  return [head, ...details].join('; ');
}

/** Failures shown per authority in a reason; the rest are counted. */
const FAILURES_SHOWN = 3;
/** Characters of one failure shown: its text echoes registry content (locations, claims). */
const FAILURE_CHARS = 240;

/**
 * The first few failures, each cut to a bounded length, then how many more there were: a
 * reason must fit the admission message with its first cause intact, however many signatures
 * a registry holds and however long what they echo.
 */
function describeFailures(failures: AuthorityFailure['failures']): string {
  const listed = failures.filter((f) => f.more === undefined);
  const hidden = failures.reduce((n, f) => n + (f.more ?? 0), 0) + Math.max(0, listed.length - FAILURES_SHOWN);
  const shown = listed.slice(0, FAILURES_SHOWN).map((f) => `${f.code} ${cut(f.message, FAILURE_CHARS)}`);
  if (hidden > 0) shown.push(`and ${hidden} more`);
  return shown.join('; ');
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
