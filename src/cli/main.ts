#!/usr/bin/env node
// The entry point checks the Node version before loading anything else: sigward's dependencies
// fail on older Node with errors that say nothing about the version.
const MIN_NODE_MAJOR = 24;
const found = process.versions.node;
if (Number(found.split('.')[0]) < MIN_NODE_MAJOR) {
  process.stderr.write(`sigward needs Node >= ${MIN_NODE_MAJOR} (found ${found})\n`);
  process.exitCode = 2;
} else {
  // V8's compiled code for sigward's modules is kept on disk (in the temp directory) and reused by
  // the next run: most of a short command's time is compiling the code it loads. A cache that
  // cannot be written only costs that saving.
  const { enableCompileCache } = await import('node:module');
  enableCompileCache();
  const [{ describeError }, { run }] = await Promise.all([import('../errors.js'), import('./run.js')]);
  run(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text + '\n'),
    stderr: (text) => process.stderr.write(text + '\n'),
    env: process.env,
  }).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => {
      process.stderr.write(`sigward: ${describeError(err)}\n`);
      process.exitCode = 1;
    },
  );
}
