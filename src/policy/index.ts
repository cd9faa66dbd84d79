export type {
  AttestationSpec,
  AuthorityFailure,
  AuthoritySpec,
  CompiledGlob,
  CompiledPolicy,
  CompiledSelector,
  ImageAction,
  ImageDecision,
  KeyAuthoritySpec,
  KeylessAuthoritySpec,
  KeylessSpec,
  KeyResolver,
  KeySource,
  LabelSelector,
  LabelSelectorRequirement,
  NoMatchAction,
  PolicyKind,
  PolicyMode,
  PolicyResult,
  PolicySpec,
  RekorSpec,
  SecretKeyRef,
  TrustedRootSource,
} from './types.js';
export { PolicyError } from './problems.js';
export { validatePolicy, type PolicyOptions } from './validate.js';
export { compilePolicy, parsePolicy } from './compile.js';
export { compileGlob, globProblem, matchGlob } from './glob.js';
export { compileSelector } from './selector.js';
export { loadPolicyFiles, parsePolicyText } from './load.js';
export { matchPolicies, matchesImage, namedRegistries } from './match.js';
export { decide, evaluatePolicy, type DecideOptions, type PolicyVerdicts } from './decide.js';
