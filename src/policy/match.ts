import type { Repository } from '../reference/types.js';
import { matchGlob } from './glob.js';
import type { CompiledPolicy } from './types.js';

/** Whether one of the policy's globs matches the image's normalized repository name. */
export function matchesImage(policy: CompiledPolicy, image: Repository): boolean {
  return policy.globs.some((glob) => matchGlob(glob, image.name));
}

/**
 * The policies that apply to an image in a namespace; every one of them must pass.
 *
 * - A ClusterImagePolicy applies where its namespaceSelector selects the namespace's labels.
 *   When the labels are not known (`namespaceLabels` undefined: offline `check`, or a namespace
 *   the cache has not seen), a non-empty selector is taken to select: the policy is enforced
 *   rather than skipped, so missing information can never let an image past its policy.
 * - An ImagePolicy applies only to pods in its own namespace. When the namespace is not known,
 *   it applies, for the same reason.
 */
export function matchPolicies(
  policies: readonly CompiledPolicy[],
  image: Repository,
  namespace: string | undefined,
  namespaceLabels?: Readonly<Record<string, string>>,
): CompiledPolicy[] {
  return policies.filter((policy) => appliesIn(policy, namespace, namespaceLabels) && matchesImage(policy, image));
}

function appliesIn(policy: CompiledPolicy, namespace: string | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  switch (policy.kind) {
    case 'ClusterImagePolicy':
      return policy.namespaceSelector.empty || labels === undefined || policy.namespaceSelector.matches(labels);
    case 'ImagePolicy':
      return namespace === undefined || namespace === policy.namespace;
    default:
      // Unreachable for a compiled policy; applying it is the safe answer.
      return true;
  }
}

/**
 * The registries the policies name literally: the first segment of each glob when it holds no
 * wildcard. Metrics label registry requests with these only, so an image reference cannot mint
 * a metric series per host it makes up (a glob of `**` names none).
 */
export function namedRegistries(policies: readonly CompiledPolicy[]): ReadonlySet<string> {
  const named = new Set<string>();
  for (const policy of policies) {
    for (const glob of policy.globs) {
      const registry = glob.normalized.split('/', 1)[0] ?? '';
      if (registry !== '' && !/[*?]/.test(registry)) named.add(registry);
    }
  }
  return named;
}
