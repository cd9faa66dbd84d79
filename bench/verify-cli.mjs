/**
 * `sigward verify` against `cosign verify` (v2), whole process, same image, key and local
 * registry (crane, plain HTTP on loopback). Two warm-up runs of each, then RUNS runs of each,
 * interleaved (sigward, cosign, sigward, ...) so drifting machine load hits both alike.
 * Every run must exit 0 (a verification that failed would time the wrong thing). For scale, the
 * floor of a Node verifier (bench/floor-verify.mjs: node:http + node:crypto, nothing else) runs
 * interleaved with them: how much of the gap any Node CLI would have.
 *
 *   node bench/verify-cli.mjs [--runs 12]
 * Target: sigward's median no slower than cosign's.
 */
import { join } from 'node:path';
import {
  ROOT, SIGWARD_CLI, cosignKeyPair, cosignSign, fmt, interleaved, option, printMachine, pushRandomImage,
  run, saveResult, scratch, startCraneRegistry, summary, table, tool,
} from './lib.mjs';

const RUNS = option('runs', 12);
const WARMUP = 2;
if (!(RUNS >= 10 && RUNS <= 100)) throw new Error('--runs must be 10..100');

const before = printMachine('start');
const dir = scratch('verify');
const registry = await startCraneRegistry();
try {
  const keys = await cosignKeyPair(dir);
  const digest = await pushRandomImage(dir, registry.host, 'bench/verify', 'v1');
  await cosignSign(`${registry.host}/bench/verify@${digest}`, keys.keyFile);
  const image = `${registry.host}/bench/verify:v1`;

  const commands = {
    sigward: [process.execPath, [SIGWARD_CLI, 'verify', image, '--key', keys.pubFile, '--insecure-registry', registry.host]],
    cosign: [
      tool('cosign'),
      ['verify', '--key', keys.pubFile, '--insecure-ignore-tlog', '--allow-insecure-registry', '--allow-http-registry', image],
    ],
    floor: [process.execPath, [join(ROOT, 'bench', 'floor-verify.mjs'), image, keys.pubFile]],
  };
  const once = async (name) => {
    const [command, args] = commands[name];
    const result = await run(command, args, { timeoutMs: 60_000 });
    if (result.code !== 0) throw new Error(`${name} verify failed (exit ${result.code}):\n${result.stderr.slice(0, 2000)}`);
    if (!result.stdout.includes(digest)) throw new Error(`${name} verify did not print the verified digest:\n${result.stdout.slice(0, 500)}`);
    return result.ms;
  };

  const times = await interleaved(Object.keys(commands), once, RUNS, WARMUP);
  const stats = summary;
  const sig = stats(times.sigward);
  const cos = stats(times.cosign);
  const flo = stats(times.floor);
  const ratio = sig.median / cos.median;
  const after = printMachine('end');
  console.log(`\nverify, whole process, ${RUNS} interleaved runs each after ${WARMUP} warm-up runs (ms)`);
  table([
    ['tool', 'median', 'min', 'p90', 'max'],
    ['sigward verify', fmt(sig.median), fmt(sig.min), fmt(sig.p90), fmt(sig.max)],
    ['cosign verify (v2)', fmt(cos.median), fmt(cos.min), fmt(cos.p90), fmt(cos.max)],
    ['floor: node:http + node:crypto', fmt(flo.median), fmt(flo.min), fmt(flo.p90), fmt(flo.max)],
  ]);
  const pass = ratio <= 1;
  console.log(`\nratio sigward/cosign (medians): ${fmt(ratio, 2)}  target <= 1.00: ${pass ? 'MET' : 'MISSED'}`);
  console.log(`(floor/cosign ${fmt(flo.median / cos.median, 2)}: the part of the gap that Node start-up alone leaves)`);
  console.log(`commands:\n  node ${commands.sigward[1].join(' ')}\n  cosign ${commands.cosign[1].join(' ')}\n  node ${commands.floor[1].join(' ')}`);
  saveResult('verify-cli', {
    machine: { before, after }, runs: RUNS, warmup: WARMUP, times, sigward: sig, cosign: cos, floor: flo, ratio, pass,
  });
} finally {
  await registry.stop();
}
