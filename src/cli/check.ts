import { parseAllDocuments } from 'yaml';
import { TtlCache } from '../cache/ttl-cache.js';
import { readTextFile, registryOptions, REGISTRY_FLAGS } from '../config.js';
import { extractImages } from '../admission/extract.js';
import type { ImageDecision, ReviewRequest } from '../admission/types.js';
import { SigwardError, describeError } from '../errors.js';
import { loadPolicyFiles } from '../policy/index.js';
import { RegistryClient } from '../registry/index.js';
import { Evaluator } from '../verify/evaluator.js';
import type { AuthorityVerdict } from '../verify/types.js';
import { Verifier } from '../verify/verifier.js';
import { parse, type Io } from './args.js';


const FLAGS = { ...REGISTRY_FLAGS, 'policy-file': { type: 'string', multiple: true }, 'no-match': { type: 'string' } } as const;

/**
 * `sigward check`: the admission decision for workload manifests, without a cluster. Each object
 * is decided as if created in its namespace (`default` when none is written). Exit 0 when every
 * image would be admitted, 1 when one would be denied.
 */
export async function checkCommand(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, FLAGS);
  const policyFiles = (values['policy-file'] as string[] | undefined) ?? [];
  if (policyFiles.length === 0) throw new SigwardError('USAGE', '--policy-file is required');
  if (positionals.length === 0) throw new SigwardError('USAGE', 'expected at least one MANIFEST.yaml');
  const noMatch = (values['no-match'] as string | undefined) ?? 'deny';
  if (noMatch !== 'deny' && noMatch !== 'warn' && noMatch !== 'allow') {
    throw new SigwardError('USAGE', `--no-match: expected deny|warn|allow, got '${noMatch}'`);
  }
  const policies = await loadPolicyFiles(policyFiles);
  const requests = positionals.flatMap((file) => manifestRequests(file));
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
    return await decideAll(evaluator, requests, io);
  } finally {
    await registry.close();
  }
}

async function decideAll(evaluator: Evaluator, requests: readonly { request: ReviewRequest; where: string }[], io: Io): Promise<number> {
  let denied = 0;
  for (const { request, where } of requests) {
    let decisions: readonly ImageDecision[];
    try {
      decisions = await evaluator.evaluate(extractImages(request), request, new AbortController().signal);
    } catch (err) {
      io.stderr(`${where}: ${describeError(err)}`);
      denied++;
      continue;
    }
    for (const d of decisions) {
      const line = `${where} ${d.use.path} ${d.reference ?? d.use.image}${d.digest ? `@${d.digest}` : ''}: ${d.action}`;
      if (d.action === 'deny') denied++;
      (d.action === 'allow' ? io.stdout : io.stderr)(d.reasons.length > 0 ? `${line}: ${d.reasons.join('; ')}` : line);
    }
  }
  return denied > 0 ? 1 : 0;
}

function manifestRequests(file: string): { request: ReviewRequest; where: string }[] {
  const docs = parseAllDocuments(readTextFile(file, 'manifest'));
  const out: { request: ReviewRequest; where: string }[] = [];
  docs.forEach((doc, index) => {
    if (doc.errors.length > 0) {
      throw new SigwardError('USAGE', `${file}#${index + 1}: not YAML: ${doc.errors[0]?.message ?? ''}`);
    }
    const object: unknown = doc.toJS();
    if (object === null || object === undefined) return;
    if (typeof object !== 'object' || Array.isArray(object)) {
      throw new SigwardError('USAGE', `${file}#${index + 1}: not a Kubernetes object`);
    }
    const o = object as Record<string, unknown>;
    const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const metadata = (typeof o.metadata === 'object' && o.metadata !== null ? o.metadata : {}) as Record<string, unknown>;
    const name = typeof metadata.name === 'string' ? metadata.name : undefined;
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : 'default';
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/', 2) : ['', apiVersion];
    out.push({
      where: `${file}#${index + 1} ${kind}/${name ?? '?'}`,
      request: {
        uid: `check-${index + 1}`,
        kind: { group: group ?? '', version: version ?? '', kind },
        resource: { group: group ?? '', version: version ?? '', resource: `${kind.toLowerCase()}s` },
        subResource: undefined,
        namespace,
        name,
        operation: 'CREATE',
        dryRun: true,
        object: o,
      },
    });
  });
  return out;
}
