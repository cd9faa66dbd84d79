/**
 * `sigward report`: the reports sigward wrote, read back (narrowly: they are API objects that
 * anyone with rights may have edited) and summed up per namespace and policy, with one line per
 * failing pod and image: the impact of switching a policy to enforce.
 */
export interface ReadResult {
  readonly namespace: string;
  readonly policy: string;
  readonly result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  readonly resource: string;
  readonly image: string;
  readonly digest: string;
  readonly message: string;
}

const RESULTS = new Set(['pass', 'fail', 'warn', 'error', 'skip']);
const MAX_FIELD = 512;

/** The results of a list of report objects; malformed entries are skipped. */
export function readResults(items: readonly unknown[]): ReadResult[] {
  const out: ReadResult[] = [];
  for (const item of items) {
    const namespace = text(field(field(item, 'metadata'), 'namespace'));
    const results = field(item, 'results');
    if (namespace === '' || !Array.isArray(results)) continue;
    for (const entry of results) {
      const result = text(field(entry, 'result'));
      if (!RESULTS.has(result)) continue;
      const resources = field(entry, 'resources');
      const first: unknown = Array.isArray(resources) ? resources[0] : undefined;
      const properties = field(entry, 'properties');
      out.push({
        namespace,
        policy: text(field(entry, 'policy')) || '(unnamed)',
        result: result as ReadResult['result'],
        resource: first === undefined ? '' : `${text(field(first, 'kind'))}/${text(field(first, 'name'))}`,
        image: text(field(properties, 'image')),
        digest: text(field(properties, 'digest')),
        message: text(field(entry, 'message')),
      });
    }
  }
  return out;
}

/** The summary table, then the failing (fail, error, warn) lines. */
export function formatResults(results: readonly ReadResult[]): string {
  if (results.length === 0) return 'no policy results reported yet';
  const counts = new Map<string, { namespace: string; policy: string; pass: number; fail: number; warn: number; error: number }>();
  for (const r of results) {
    const key = `${r.namespace}\u0000${r.policy}`;
    const row = counts.get(key) ?? { namespace: r.namespace, policy: r.policy, pass: 0, fail: 0, warn: 0, error: 0 };
    if (r.result !== 'skip') row[r.result]++;
    counts.set(key, row);
  }
  const rows = [...counts.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.policy.localeCompare(b.policy));
  const table = columns([
    ['NAMESPACE', 'POLICY', 'PASS', 'FAIL', 'WARN', 'ERROR'],
    ...rows.map((r) => [r.namespace, r.policy, String(r.pass), String(r.fail), String(r.warn), String(r.error)]),
  ]);
  const failing = results.filter((r) => r.result === 'fail' || r.result === 'error' || r.result === 'warn');
  if (failing.length === 0) return `${table}\n\nno failing images`;
  const lines = failing
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.resource.localeCompare(b.resource))
    .map((r) => `${r.namespace} ${r.resource} ${pinned(r.image, r.digest)} ${r.policy} ${r.result}: ${r.message}`);
  return `${table}\n\nfailing (${failing.length}):\n${lines.join('\n')}`;
}

/** The image with its digest, once: a pod the mutating webhook pinned already names it. */
function pinned(image: string, digest: string): string {
  return digest === '' || image.endsWith(`@${digest}`) ? image : `${image}@${digest}`;
}

function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? '').length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** A string field, with control characters replaced (a report is written by whoever may write it) and bounded. */
function text(value: unknown): string {
  if (typeof value !== 'string') return '';
  // eslint-disable-next-line no-control-regex
  const clean = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return clean.length > MAX_FIELD ? `${clean.slice(0, MAX_FIELD - 1)}…` : clean;
}
