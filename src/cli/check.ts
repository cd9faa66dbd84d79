import { parseAllDocuments } from 'yaml';
import { TtlCache } from '../cache/ttl-cache.js';
import { readTextFile, registryOptions, REGISTRY_FLAGS } from '../config.js';
import { extractImages, isWorkloadKind } from '../admission/extract.js';
import type { ImageDecision, ReviewRequest } from '../admission/types.js';
import { SigwardError, describeError } from '../errors.js';
import { loadPolicyFiles } from '../policy/index.js';
import { RegistryClient } from '../registry/index.js';
import { Evaluator } from '../verify/evaluator.js';
import type { AuthorityVerdict } from '../verify/types.js';
import { Verifier } from '../verify/verifier.js';
import { parse, type Io } from './args.js';

export const CHECK_FLAGS = { ...REGISTRY_FLAGS, 'policy-file': { type: 'string', multiple: true }, 'no-match': { type: 'string' } } as const;

/** Objects read from the manifests: each one to decide, and what was passed over and why. */
interface Manifests {
  readonly requests: { request: ReviewRequest; where: string }[];
  /** Kind → how many objects of it were skipped (sigward reads no images from them). */
  readonly skipped: Map<string, number>;
}

/**
 * `sigward check`: the admission decision for workload manifests, without a cluster. Each object
 * is decided as if created in its namespace (`default` when none is written); a `kind: List`
 * (what `kubectl get -o yaml` prints) is read item by item. Prints one line per image and a
 * summary of what was checked and what was skipped. Exit 0 when every image would be admitted,
 * 1 when one would be denied, 2 when nothing could be checked (no policy, or no workload object
 * in the manifests): a check that checked nothing must not pass.
 */
export async function checkCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, CHECK_FLAGS);
  const policyFiles = (values['policy-file'] as string[] | undefined) ?? [];
  if (policyFiles.length === 0) throw new SigwardError('USAGE', '--policy-file is required');
  if (positionals.length === 0) throw new SigwardError('USAGE', 'expected at least one MANIFEST.yaml');
  const noMatch = (values['no-match'] as string | undefined) ?? 'deny';
  if (noMatch !== 'deny' && noMatch !== 'warn' && noMatch !== 'allow') {
    throw new SigwardError('USAGE', `--no-match: expected deny|warn|allow, got '${noMatch}'`);
  }
  const policies = await loadPolicyFiles(policyFiles);
  if (policies.length === 0) {
    throw new SigwardError('NO_POLICY', `${policyFiles.join(', ')}: no ClusterImagePolicy or ImagePolicy in ${policyFiles.length === 1 ? 'the file' : 'the files'}, so nothing can be checked`);
  }
  const manifests: Manifests = { requests: [], skipped: new Map() };
  for (const file of positionals) readManifests(file, manifests);
  const digests = new TtlCache<string, string>({ max: 1000, ttlMs: 60_000 });
  const verdicts = new TtlCache<string, readonly AuthorityVerdict[]>({ max: 1000, ttlMs: 60_000 });
  const registry = new RegistryClient(registryOptions(values, io.env));
  const evaluator = new Evaluator({
    verifier: new Verifier({ registry, digests }),
    policies: { policies: () => policies, ready: () => true },
    noMatch,
    digests,
    verdicts,
  });
  try {
    return await decideAll(evaluator, manifests, io);
  } finally {
    await registry.close();
  }
}

async function decideAll(evaluator: Evaluator, manifests: Manifests, io: Io): Promise<number> {
  let denied = 0;
  let images = 0;
  for (const { request, where } of manifests.requests) {
    let decisions: readonly ImageDecision[];
    try {
      decisions = await evaluator.evaluate(extractImages(request), request, new AbortController().signal);
    } catch (err) {
      io.stderr(`${where}: ${describeError(err)}`);
      denied++;
      continue;
    }
    for (const d of decisions) {
      images++;
      const line = `${where} ${d.use.path} ${d.reference ?? d.use.image}${d.digest ? `@${d.digest}` : ''}: ${d.action}`;
      if (d.action === 'deny') denied++;
      (d.action === 'allow' ? io.stdout : io.stderr)(d.reasons.length > 0 ? `${line}: ${d.reasons.join('; ')}` : line);
    }
  }
  const skipped = [...manifests.skipped.values()].reduce((a, b) => a + b, 0);
  const kinds = [...manifests.skipped.entries()].map(([kind, count]) => `${kind} ${count}`).join(', ');
  const summary = `checked ${manifests.requests.length} ${plural(manifests.requests.length, 'object')}, ${images} ${plural(images, 'image')}` +
    (skipped > 0 ? `; skipped ${skipped} (kinds sigward does not read: ${kinds})` : '') +
    (denied > 0 ? `; ${denied} denied` : '');
  if (manifests.requests.length === 0) {
    io.stderr(`${summary}: no Pod or workload object to check (exit 2)`);
    return 2;
  }
  io.stdout(summary);
  return denied > 0 ? 1 : 0;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

/** Reads every object of a manifest file, expanding lists, into `into`. */
function readManifests(file: string, into: Manifests): void {
  const docs = parseAllDocuments(readTextFile(file, 'manifest'));
  docs.forEach((doc, index) => {
    const where = `${file}#${index + 1}`;
    if (doc.errors.length > 0) {
      throw new SigwardError('USAGE', `${where}: not YAML: ${doc.errors[0]?.message ?? ''}`);
    }
    const object: unknown = doc.toJS();
    if (object === null || object === undefined) return;
    addObject(object, where, into, 0);
  });
}

/** Items of a List are objects too, and lists may hold lists; nesting past this is refused. */
const MAX_LIST_DEPTH = 4;

function addObject(object: unknown, where: string, into: Manifests, depth: number): void {
  if (typeof object !== 'object' || object === null || Array.isArray(object)) {
    throw new SigwardError('USAGE', `${where}: not a Kubernetes object`);
  }
  const o = object as Record<string, unknown>;
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const kind = typeof o.kind === 'string' ? o.kind : '';
  if (kind.endsWith('List') && Array.isArray(o.items)) {
    if (depth >= MAX_LIST_DEPTH) throw new SigwardError('USAGE', `${where}: lists nested more than ${MAX_LIST_DEPTH} deep`);
    (o.items as unknown[]).forEach((item, i) => { addObject(item, `${where} items[${i}]`, into, depth + 1); });
    return;
  }
  const metadata = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>;
  const name = typeof metadata.name === 'string' ? metadata.name : undefined;
  const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
  const request: ReviewRequest = {
    uid: `check-${into.requests.length + 1}`,
    kind: { group: group ?? '', version: version ?? '', kind },
    resource: { group: group ?? '', version: version ?? '', resource: `${kind.toLowerCase()}s` },
    subResource: undefined,
    namespace,
    name,
    operation: 'CREATE',
    dryRun: true,
    object: o,
  };
  if (!isWorkloadKind(request)) {
    const label = kind === '' ? '(no kind)' : apiVersion === '' ? kind : `${apiVersion} ${kind}`;
    into.skipped.set(label, (into.skipped.get(label) ?? 0) + 1);
    return;
  }
  into.requests.push({ where: `${where} ${kind}/${name ?? '?'}`, request });
}
