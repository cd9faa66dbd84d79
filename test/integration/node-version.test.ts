import { existsSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { runCommand } from '../support/process.js';
import { requireBuiltCli } from '../support/sigward.js';

/** The machine's own Node (20 here): the built CLI must refuse it by name, not crash on import. */
const OLD_NODE = '/usr/bin/node';

describe('the CLI under a Node older than 24', () => {
  it('exits 2 naming the Node version it needs and the one it found', async () => {
    if (!existsSync(OLD_NODE)) throw new Error(`${OLD_NODE} is missing: this check needs the machine's own Node`);
    const version = await runCommand(OLD_NODE, ['--version']);
    const major = Number(version.stdout.trim().replace(/^v/, '').split('.')[0]);
    expect(major).toBeLessThan(24);
    const result = await runCommand(OLD_NODE, [requireBuiltCli(), 'verify', 'quay.io/a/b:1', '--key', 'k']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(`sigward needs Node >= 24 (found ${version.stdout.trim().replace(/^v/, '')})`);
  });
});
