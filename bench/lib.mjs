/**
 * Shared pieces of sigward's benchmarks: real tools (crane, cosign) from scripts/tools.sh, child
 * processes that are always stopped, a plain-HTTP crane registry on loopback, signed images,
 * statistics and the short tables every bench prints. Everything listens on 127.0.0.1 only, and
 * every wait is bounded in time.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Agent, request } from 'undici';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The build whose CLI the process-level benches run; SIGWARD_BENCH_DIST=DIR compares another build. */
export const SIGWARD_DIST = process.env.SIGWARD_BENCH_DIST ?? join(ROOT, 'dist');
export const SIGWARD_CLI = join(SIGWARD_DIST, 'cli', 'main.js');

/** Imports a module of that build: distImport('verify/evaluator.js'). */
export function distImport(path) {
  return import(pathToFileURL(join(SIGWARD_DIST, path)).href);
}

/** Paths of the real tools; scripts/bench.sh exports them (`eval "$(bash scripts/tools.sh env)"`). */
export function tool(name) {
  const variable = { crane: 'SIGWARD_CRANE', cosign: 'SIGWARD_COSIGN2' }[name];
  const path = process.env[variable];
  if (!path) throw new Error(`$${variable} is not set: run through scripts/bench.sh, or eval "$(bash scripts/tools.sh env)" first`);
  return path;
}

// ---------------------------------------------------------------- processes

const children = new Set();
const scratchDirs = new Set();

function cleanupNow() {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanupNow);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    cleanupNow();
    process.exit(130);
  });
}

export function scratch(prefix) {
  const dir = mkdtempSync(join(tmpdir(), `sigward-bench-${prefix}-`));
  scratchDirs.add(dir);
  return dir;
}

/** Runs a command to completion (bounded by `timeoutMs`); resolves with code, output and wall time. */
export function run(command, args, { env, cwd, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { env: env ?? process.env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); children.delete(child); reject(e); });
    child.on('close', (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      children.delete(child);
      resolve({ code, signal, ms, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
  });
}

/** Like run(), but throws with the output when the exit code is not 0. */
export async function runChecked(command, args, options) {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code ?? result.signal}:\n${result.stdout}\n${result.stderr}`.slice(0, 4000));
  }
  return result;
}

/** A long-running child (a server). Output goes to `logFile`; stop() sends SIGTERM, then SIGKILL. */
export function daemon(command, args, { logFile, env } = {}) {
  const child = spawn(command, args, { env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const log = [];
  const keep = (d) => {
    log.push(d);
    if (log.length > 2000) log.shift();
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise((resolve) => child.on('close', (code, signal) => {
    children.delete(child);
    if (logFile) writeFileSync(logFile, Buffer.concat(log));
    resolve({ code, signal });
  }));
  return {
    pid: child.pid,
    output: () => Buffer.concat(log).toString(),
    alive: () => child.exitCode === null && child.signalCode === null,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

const CLOCK_TICKS = 100; // getconf CLK_TCK on Linux

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux; 10 ms ticks). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 14 and 15 of stat(5) (utime, stime), counted from the state field (3) here.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => { resolve(port); });
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` (an async predicate) every 50 ms until it is true or `timeoutMs` passes. */
export async function waitFor(what, probe, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    await sleep(50);
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms${last ? `: ${last.message}` : ''}`);
}

// ---------------------------------------------------------------- registry and images

/** `crane registry serve` on loopback: plain HTTP, in memory. */
export async function startCraneRegistry() {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const server = daemon(tool('crane'), ['registry', 'serve', '--address', host]);
  await waitFor(`crane registry at ${host}`, async () => {
    if (!server.alive()) throw new Error(`exited: ${server.output().slice(-500)}`);
    const res = await fetch(`http://${host}/v2/`);
    await res.body?.cancel();
    return res.status === 200;
  });
  return { host, stop: () => server.stop() };
}

/** Pushes `HOST/repo:tag` with one random layer (so its digest is new); returns its digest. */
export async function pushRandomImage(dir, host, repo, tag) {
  const name = `layer-${randomBytes(6).toString('hex')}`;
  const layerDir = join(dir, name);
  mkdirSync(layerDir);
  writeFileSync(join(layerDir, 'content.txt'), randomBytes(32).toString('hex'));
  const tar = join(dir, `${name}.tar`);
  await runChecked('tar', ['-C', layerDir, '-cf', tar, 'content.txt']);
  const pushed = await runChecked(tool('crane'), ['append', '-f', tar, '-t', `${host}/${repo}:${tag}`, '--insecure']);
  const digest = /@(sha256:[0-9a-f]{64})/.exec(pushed.stdout)?.[1];
  if (!digest) throw new Error(`crane append printed no digest: ${pushed.stdout} ${pushed.stderr}`);
  rmSync(layerDir, { recursive: true });
  rmSync(tar);
  return digest;
}

/** A cosign key pair (empty password) in `dir`: cosign.key, cosign.pub. */
export async function cosignKeyPair(dir) {
  await runChecked(tool('cosign'), ['generate-key-pair'], { cwd: dir, env: { ...process.env, COSIGN_PASSWORD: '' } });
  return { keyFile: join(dir, 'cosign.key'), pubFile: join(dir, 'cosign.pub'), pub: readFileSync(join(dir, 'cosign.pub'), 'utf8') };
}

/** Signs `HOST/repo@digest` with the real cosign v2 (legacy `.sig` tag, no transparency log). */
export async function cosignSign(imageAtDigest, keyFile) {
  await runChecked(
    tool('cosign'),
    ['sign', '--key', keyFile, '--tlog-upload=false', '--allow-insecure-registry', '--allow-http-registry', '-y', imageAtDigest],
    { env: { ...process.env, COSIGN_PASSWORD: '' }, timeoutMs: 60_000 },
  );
}

/** A ClusterImagePolicy for `glob` trusting one PEM public key, as a file. */
export function writePolicy(dir, name, glob, pem) {
  const file = join(dir, `${name}.yaml`);
  const key = pem.trim().split('\n').map((line) => `          ${line}`).join('\n');
  writeFileSync(file, `apiVersion: sigward.dev/v1alpha1
kind: ClusterImagePolicy
metadata: { name: ${name} }
spec:
  images: [ { glob: "${glob}" } ]
  authorities:
    - name: bench-key
      key:
        data: |
${key}
`);
  return file;
}

// ---------------------------------------------------------------- sigward serve

/** Starts `sigward serve` as a child process and waits for /readyz. `nodeArgs` e.g. --cpu-prof. */
export async function startSigwardServe({ policyFile, insecureRegistry, nodeArgs = [], logFile, env }) {
  const port = await freePort();
  const metricsPort = await freePort();
  const args = [
    ...nodeArgs, SIGWARD_CLI, 'serve', '--policy-file', policyFile, '--host', '127.0.0.1', '--port', String(port),
    '--metrics-port', String(metricsPort), '--insecure-registry', insecureRegistry, '--log-level', 'warn',
  ];
  const server = daemon(process.execPath, args, { logFile, env: env ?? process.env });
  const agent = new Agent({ connect: { rejectUnauthorized: false } });
  try {
    await waitFor('sigward serve', async () => {
      if (!server.alive()) throw new Error(`exited: ${server.output().slice(-1000)}`);
      const res = await request(`https://127.0.0.1:${port}/readyz`, { dispatcher: agent });
      await res.body.dump();
      return res.statusCode === 200;
    });
  } finally {
    await agent.close();
  }
  return { port, metricsPort, origin: `https://127.0.0.1:${port}`, command: `node ${args.join(' ')}`, server };
}

/** An AdmissionReview for a Pod running `image`; `uid` is spliced in per request. */
export function reviewTemplate(image) {
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '@UID@',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      name: 'web',
      operation: 'CREATE',
      userInfo: { username: 'bench' },
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
  const [head, tail] = JSON.stringify(review).split('@UID@');
  return (uid) => head + uid + tail;
}

// ---------------------------------------------------------------- statistics and reporting

export function sorted(values) {
  return Float64Array.from(values).sort();
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sortedValues, p) {
  if (sortedValues.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length - 1, Math.max(0, rank - 1))];
}

export function median(values) {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export function mean(values) {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

export const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

/** Prints rows (arrays of cells; the first row is the header) as a Markdown table. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  const out = [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
  console.log(out.join('\n'));
}

/** Machine and load, printed at the start and end of each bench (load changes while it runs). */
export function machine() {
  return {
    date: new Date().toISOString(),
    nproc: cpus().length,
    memoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    load: loadavg().map((l) => Number(l.toFixed(2))),
  };
}

export function printMachine(label) {
  const m = machine();
  console.log(`${label}: ${m.date}  nproc=${m.nproc}  mem=${m.memoryGiB} GiB  node=${m.node}  load=${m.load.join(' ')}`);
  return m;
}

/** Writes a bench's numbers as JSON next to its printed table (bench/out/NAME.json). */
export function saveResult(name, result) {
  const dir = join(ROOT, 'bench', 'out');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`numbers: ${file}`);
}

/** Reads `--name value` style options with numeric defaults. */
export function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = process.argv[i + 1];
  return typeof fallback === 'number' ? Number(value) : value;
}

/**
 * Runs each of `names` through `once` WARMUP times, then `runs` rounds with the order rotating
 * (so none always follows the same one, and drifting load hits all alike); the times per name.
 */
export async function interleaved(names, once, runs, warmup) {
  for (let i = 0; i < warmup; i++) for (const name of names) await once(name);
  const times = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length];
      times[name].push(await once(name));
    }
  }
  return times;
}

/** Median, min, p90 and max of a list of times. */
export function summary(xs) {
  const s = sorted(xs);
  return { median: median(xs), min: s[0], p90: percentile(s, 90), max: s[s.length - 1] };
}
