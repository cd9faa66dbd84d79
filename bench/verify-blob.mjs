/**
 * `sigward verify-blob` against `cosign verify-blob` (v3), whole process, on the same bundle: a
 * file signed offline with `cosign sign-blob --bundle` (no log upload), verified with the key and
 * `--insecure-ignore-tlog` by both. Two warm-up runs of each, then RUNS interleaved runs of each
 * (the order rotates). Every run must exit 0 and say so.
 *
 *   node bench/verify-blob.mjs [--runs 12]
 * Target: sigward's median no slower than cosign's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIGWARD_CLI, fmt, interleaved, option, printMachine, run, runChecked, saveResult, scratch, summary, table } from './lib.mjs';

const RUNS = option('runs', 12);
const WARMUP = 2;
if (!(RUNS >= 10 && RUNS <= 100)) throw new Error('--runs must be 10..100');
const cosign = process.env.SIGWARD_COSIGN3;
if (!cosign) throw new Error('$SIGWARD_COSIGN3 is not set: run through scripts/bench.sh, or eval "$(bash scripts/tools.sh env)" first');

const before = printMachine('start');
const dir = scratch('verify-blob');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, COSIGN_PASSWORD: '', TUF_ROOT: join(dir, 'tuf') };
await runChecked(cosign, ['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], { env, cwd: dir });
const artifact = join(dir, 'chart-1.0.0.tgz');
writeFileSync(artifact, Buffer.alloc(256 * 1024, 7));
const bundle = join(dir, 'chart.sigstore.json');
await runChecked(cosign, ['sign-blob', '--key', join(dir, 'cosign.key'), '--bundle', bundle, '--tlog-upload=false', '--use-signing-config=false', '--yes', artifact], { env });
const emptyRoot = join(dir, 'empty-root.json');
writeFileSync(emptyRoot, JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1', tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [] }));

const commands = {
  sigward: [process.execPath, [SIGWARD_CLI, 'verify-blob', artifact, '--bundle', bundle, '--key', join(dir, 'cosign.pub'), '--insecure-ignore-tlog']],
  cosign: [cosign, ['verify-blob', '--key', join(dir, 'cosign.pub'), '--bundle', bundle, '--insecure-ignore-tlog=true', '--trusted-root', emptyRoot, artifact]],
};
const once = async (name) => {
  const [command, args] = commands[name];
  const result = await run(command, args, { env, timeoutMs: 60_000 });
  if (result.code !== 0 || !/Verified OK/.test(result.stdout + result.stderr)) {
    throw new Error(`${name} verify-blob failed (exit ${result.code}):\n${(result.stdout + result.stderr).slice(0, 2000)}`);
  }
  return result.ms;
};

const times = await interleaved(Object.keys(commands), once, RUNS, WARMUP);
const stats = summary;
const sig = stats(times.sigward);
const cos = stats(times.cosign);
const ratio = sig.median / cos.median;
const after = printMachine('end');
console.log(`\nverify-blob, whole process, ${RUNS} interleaved runs each after ${WARMUP} warm-up runs (ms)`);
table([
  ['tool', 'median', 'min', 'p90', 'max'],
  ['sigward verify-blob', fmt(sig.median), fmt(sig.min), fmt(sig.p90), fmt(sig.max)],
  ['cosign verify-blob (v3)', fmt(cos.median), fmt(cos.min), fmt(cos.p90), fmt(cos.max)],
]);
const pass = ratio <= 1;
console.log(`\nratio sigward/cosign (medians): ${fmt(ratio, 2)}  target <= 1.00: ${pass ? 'MET' : 'MISSED'}`);
console.log(`commands:\n  node ${commands.sigward[1].join(' ')}\n  cosign ${commands.cosign[1].join(' ')}`);
saveResult('verify-blob', { machine: { before, after }, runs: RUNS, warmup: WARMUP, times, sigward: sig, cosign: cos, ratio, pass });
