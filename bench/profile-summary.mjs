/**
 * Summarizes a V8 CPU profile (`node --cpu-prof` writes *.cpuprofile): self time by function
 * and by module (a node_modules package, a dist/ file, or node's own internals), so a missed
 * target can be traced to where the time goes.
 *
 *   node bench/profile-summary.mjs FILE.cpuprofile [--top 25] [--skip-ms 0] [--busy] [--per N]
 * --skip-ms leaves out the first milliseconds (start-up); --busy leaves idle time out of the
 * percentages, so they say where the working time goes; --per N adds a column of µs per unit
 * of work (e.g. N = the reviews answered while profiling).
 */
import { readFileSync } from 'node:fs';
import { fmt, option, table } from './lib.mjs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/profile-summary.mjs FILE.cpuprofile [--top 25]');
const TOP = option('top', 25);
const SKIP_MS = option('skip-ms', 0);
const BUSY = process.argv.includes('--busy');
const PER = option('per', 0);
const profile = JSON.parse(readFileSync(file, 'utf8'));

// Sample counts per node, weighted by the time between samples.
const selfUs = new Map();
const deltas = profile.timeDeltas ?? [];
const idle = new Set(profile.nodes.filter((n) => BUSY && n.callFrame.functionName === '(idle)').map((n) => n.id));
let clock = 0;
profile.samples.forEach((id, i) => {
  clock += deltas[i] ?? 0;
  if (clock < SKIP_MS * 1000 || idle.has(id)) return;
  selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i + 1] ?? deltas[i] ?? 0));
});
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);

function moduleOf(url) {
  if (!url) return '(native / vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `dist/${dist[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  return url.replace(/^file:\/\//, '');
}

const byFunction = new Map();
const byModule = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const mod = moduleOf(url);
  const fn = `${functionName || '(anonymous)'} ${mod}:${lineNumber + 1}`;
  byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
  byModule.set(mod, (byModule.get(mod) ?? 0) + us);
}

const rows = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP)
  .map(([name, us]) => [name.slice(0, 110), fmt(us / 1000, 1), fmt((100 * us) / totalUs, 1), ...(PER ? [fmt(us / PER, 2)] : [])]);
const head = (first) => [first, 'ms', '%', ...(PER ? [`µs per 1/${PER}`] : [])];
console.log(`${file}: ${fmt(totalUs / 1000, 0)} ms sampled${BUSY ? ' (busy only)' : ''}${SKIP_MS ? `, first ${SKIP_MS} ms left out` : ''}`
  + `${PER ? `; ${fmt(totalUs / PER, 1)} µs per unit` : ''}`);
console.log('\nself time by module');
table([head('module'), ...rows(byModule)]);
console.log('\nself time by function');
table([head('function'), ...rows(byFunction)]);
