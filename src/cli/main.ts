#!/usr/bin/env node
import { describeError } from '../errors.js';
import type { Io } from './args.js';
import { run } from './run.js';

const io: Io = {
  stdout: (text) => process.stdout.write(text + '\n'),
  stderr: (text) => process.stderr.write(text + '\n'),
  env: process.env,
};

run(process.argv.slice(2), io).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    process.stderr.write(`sigward: ${describeError(err)}\n`);
    process.exitCode = 1;
  },
);
