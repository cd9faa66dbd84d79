import { POLICY_API } from '../constants.js';
import { NAMESPACE_NAME, OBJECT_NAME, describeType, isMapping, own, readMapping, readString, show } from './fields.js';
import type { KeyOptions } from './keys.js';
import { Problems, policyInvalid } from './problems.js';
import { readSpec } from './spec.js';
import type { PolicyKind, PolicySpec } from './types.js';

export type PolicyOptions = KeyOptions;

const TOP_FIELDS = ['apiVersion', 'kind', 'metadata', 'spec', 'status'] as const;
const KINDS: readonly PolicyKind[] = [POLICY_API.clusterKind, POLICY_API.namespacedKind];
// ObjectMeta as the apiserver returns it; only the fields sigward reads are checked.
const METADATA_FIELDS = [
  'name', 'namespace', 'uid', 'generation', 'labels', 'annotations', 'resourceVersion', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'finalizers', 'ownerReferences', 'managedFields', 'generateName', 'selfLink',
] as const;

/**
 * Validates one ClusterImagePolicy or ImagePolicy document (docs/design.md §2) and returns it typed,
 * with defaults applied. Every problem is reported at once, each with its field path; unknown
 * fields are problems too, because a misspelt field would otherwise fall back to a weaker
 * default. Keys are checked here (`key.data` must be a public key; `key.secretRef` is read
 * through `options.resolveKey`, and is a problem without one), and so are the extension's
 * trust material (`keyless.trustedRoot` must parse, `rekor.publicKey` must be a key) and
 * subject patterns (they must compile as they will be matched). Throws a PolicyError
 * (POLICY_INVALID) whose message has one `${where}: <path>: <problem>` line per problem.
 */
export function validatePolicy(doc: unknown, where: string, options: PolicyOptions = {}): PolicySpec {
  if (!isMapping(doc)) {
    throw policyInvalid(where, [`(document): must be a mapping with apiVersion, kind, metadata and spec, not ${describeType(doc)}`]);
  }
  const problems = new Problems();
  readMapping(doc, '', problems, TOP_FIELDS);
  const apiVersion = own(doc, 'apiVersion');
  if (apiVersion !== POLICY_API.apiVersion) {
    problems.add('apiVersion', `must be ${POLICY_API.apiVersion}${apiVersion === undefined ? '' : `, not ${show(apiVersion)}`}`);
  }
  const kindValue = own(doc, 'kind');
  const kind = KINDS.find((k) => k === kindValue);
  if (kind === undefined) problems.add('kind', `must be ${KINDS.join(' or ')}${kindValue === undefined ? '' : `, not ${show(kindValue)}`}`);
  const metadata = readMetadata(own(doc, 'metadata'), kind, problems);
  const spec = readSpec(own(doc, 'spec'), kind, problems, options);
  if (problems.count > 0 || kind === undefined || metadata === undefined || spec === undefined) {
    // Every reader reports why it returns nothing; should one not, the document is refused anyway.
    throw policyInvalid(where, problems.count > 0 ? problems.all : ['(document): could not be read as a policy']);
  }
  return { kind, ...metadata, source: where, ...spec };
}

interface Metadata {
  readonly name: string;
  readonly namespace: string | undefined;
  readonly uid: string | undefined;
  readonly generation: number | undefined;
}

function readMetadata(value: unknown, kind: PolicyKind | undefined, problems: Problems): Metadata | undefined {
  if (value === undefined || value === null) {
    problems.add('metadata.name', 'is required');
    return undefined;
  }
  const fields = readMapping(value, 'metadata', problems, METADATA_FIELDS);
  if (fields === undefined) return undefined;
  const before = problems.count;
  const name = readString(fields, 'name', 'metadata', problems, { ...OBJECT_NAME, required: true });
  const namespace = readString(fields, 'namespace', 'metadata', problems, NAMESPACE_NAME);
  if (kind === 'ImagePolicy' && namespace === undefined && own(fields, 'namespace') === undefined) {
    problems.add('metadata.namespace', 'is required: an ImagePolicy applies to the pods of its own namespace');
  }
  if (kind === 'ClusterImagePolicy' && own(fields, 'namespace') !== undefined) {
    problems.add('metadata.namespace', 'must not be set: a ClusterImagePolicy is cluster-scoped (use spec.namespaceSelector)');
  }
  const uid = readString(fields, 'uid', 'metadata', problems, { max: 128 });
  const generation = own(fields, 'generation');
  if (generation !== undefined && !(Number.isSafeInteger(generation) && (generation as number) >= 0)) {
    problems.add('metadata.generation', `must be a whole number, not ${show(generation)}`);
  }
  if (problems.count !== before || name === undefined) return undefined;
  return {
    name,
    namespace: kind === 'ImagePolicy' ? namespace : undefined,
    uid,
    generation: typeof generation === 'number' ? generation : undefined,
  };
}
