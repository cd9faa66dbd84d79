import { SigwardError } from '../errors.js';

export { Problems } from '../fields.js';

/**
 * A policy (or set of policy files) that cannot be used, with every problem found in it. The
 * message has one line per problem, each prefixed with where it is, so a person fixes them all
 * in one pass; `problems` keeps the lines for tests and status conditions.
 */
export class PolicyError extends SigwardError {
  readonly problems: readonly string[];

  constructor(code: 'POLICY_INVALID' | 'FILE_UNREADABLE', message: string, problems: readonly string[], options?: { cause?: unknown }) {
    super(code, message, options);
    this.problems = problems;
  }
}

/** POLICY_INVALID for one document: `problems` are field paths with what is wrong, and each
 * line of the message reads `${where}: ${problem}`. */
export function policyInvalid(where: string, problems: readonly string[]): PolicyError {
  return new PolicyError('POLICY_INVALID', problems.map((problem) => `${where}: ${problem}`).join('\n'), problems);
}


/** Quotes untrusted text for a message: escaped (no line breaks) and bounded. */
export function quote(text: string): string {
  const limit = 120;
  return JSON.stringify(text.length > limit ? `${text.slice(0, limit)}…` : text);
}
