/**
 * Each command's `--help` (usage, what it does, a line per flag) and its flags are one list:
 * a flag a command takes that its help does not name, or the reverse, fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CHECK_FLAGS } from '../../src/cli/check.js';
import { closestFlag, COMMAND_HELP } from '../../src/cli/help.js';
import { REPORT_FLAGS } from '../../src/cli/report.js';
import { RESOLVE_FLAGS, TRIANGULATE_FLAGS } from '../../src/cli/resolve.js';
import { run } from '../../src/cli/run.js';
import { VERIFY_FLAGS } from '../../src/cli/verify.js';
import { VERIFY_BLOB_FLAGS } from '../../src/cli/verify-blob.js';
import { SERVE_FLAGS } from '../../src/config.js';

const FLAGS: Record<string, Record<string, unknown>> = {
  verify: VERIFY_FLAGS, 'verify-blob': VERIFY_BLOB_FLAGS, triangulate: TRIANGULATE_FLAGS, resolve: RESOLVE_FLAGS, serve: SERVE_FLAGS, check: CHECK_FLAGS, report: REPORT_FLAGS,
};

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), env: {} } };
}

describe('per-command help', () => {
  it.each(Object.keys(FLAGS))('%s --help names exactly the flags %s takes, each with its text', (name) => {
    const documented = COMMAND_HELP[name]!.flags.map((f) => f.flag).sort();
    expect(documented).toEqual(Object.keys(FLAGS[name]!).sort());
    for (const flag of COMMAND_HELP[name]!.flags) expect(flag.text.length).toBeGreaterThan(10);
  });

  it.each(Object.keys(FLAGS))('%s --help and -h print it and exit 0', async (name) => {
    for (const flag of ['--help', '-h']) {
      const t = io();
      await expect(run([name, flag], t.io)).resolves.toBe(0);
      const text = t.out.join('\n');
      expect(text.startsWith(`usage: ${COMMAND_HELP[name]!.usage}`)).toBe(true);
      for (const f of COMMAND_HELP[name]!.flags) expect(text).toContain(`--${f.flag}`);
    }
  });

  it('treats --help after -- as an argument, not a request for help', async () => {
    const t = io();
    await expect(run(['resolve', '--', '--help'], t.io)).resolves.toBe(2);
  });
});

describe('a typo', () => {
  it('in a flag names the flag meant, shows that command\'s usage only, and puts the error last', async () => {
    const t = io();
    await expect(run(['verify', 'quay.io/a/b:1', '--keys', 'cosign.pub'], t.io)).resolves.toBe(2);
    expect(t.err.at(-1)).toBe('sigward verify: unknown flag --keys (did you mean --key?) (USAGE)');
    const shown = t.err.join('\n');
    expect(shown).toContain(COMMAND_HELP.verify!.usage);
    expect(shown).not.toContain(COMMAND_HELP.serve!.usage);
  });

  it('in a command names the command meant, the error last', async () => {
    const t = io();
    await expect(run(['verfy', 'quay.io/a/b:1'], t.io)).resolves.toBe(2);
    expect(t.err.at(-1)).toBe("sigward: unknown command 'verfy' (did you mean verify?)");
  });

  it('says a flag needs a value in sigward\'s words', async () => {
    const t = io();
    await expect(run(['verify', 'quay.io/a/b:1', '--key'], t.io)).resolves.toBe(2);
    expect(t.err.at(-1)).toBe('sigward verify: --key needs a value (USAGE)');
  });

  it('suggests nothing for a flag unlike any', () => {
    expect(closestFlag('frobnicate', ['key', 'threshold'])).toBeUndefined();
    expect(closestFlag('treshold', ['key', 'threshold'])).toBe('threshold');
  });
});

describe('README\'s command line', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('## Command line');
  const block = readme.slice(readme.indexOf('```', start) + 3, readme.indexOf('```', readme.indexOf('```', start) + 3));

  it.each(Object.keys(COMMAND_HELP))('holds the usage of %s as the command prints it', (name) => {
    expect(block).toContain(COMMAND_HELP[name]!.usage);
  });

  it('names only flags some command takes, and every flag of every command', () => {
    const inReadme = new Set([...block.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
    const taken = new Set([...Object.values(FLAGS).flatMap((flags) => Object.keys(flags)), 'version', 'help']);
    expect([...inReadme].filter((flag) => !taken.has(flag))).toEqual([]);
    expect([...taken].filter((flag) => !inReadme.has(flag))).toEqual([]);
  });
});

describe('docs/errors.md', () => {
  it('explains every error code sigward has, and no other', () => {
    const source = readFileSync(new URL('../../src/errors.ts', import.meta.url), 'utf8');
    const union = source.slice(source.indexOf('export type ErrorCode'), source.indexOf('export class SigwardError'));
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!).sort();
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]!).sort();
    expect(codes.length).toBeGreaterThan(40);
    expect(documented).toEqual(codes);
  });
});
