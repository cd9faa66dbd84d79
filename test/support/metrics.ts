/**
 * Reading Prometheus text exposition (what `GET /metrics` serves) in tests: samples by metric
 * name and labels, so a test can say "this counter moved by N".
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample line; comment lines (# HELP, # TYPE) are skipped. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const match = SAMPLE.exec(line.trim());
    if (match?.[1] === undefined || match[3] === undefined) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) {
      if (label[1] !== undefined && label[2] !== undefined) labels[label[1]] = label[2].replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The names of the metric families declared by `# TYPE` lines. */
export function metricFamilies(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const match = /^# TYPE (\S+) \S+$/.exec(line);
    if (match?.[1] !== undefined) names.add(match[1]);
  }
  return names;
}

/** The sum of the samples named `name` whose labels include `labels` (0 when there are none). */
export function sampleSum(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  return parseMetrics(text)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
