import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SigwardError, describeError } from '../errors.js';

/** parseArgs in strict mode; any unknown flag or missing value is a usage error naming it. */
export function parse(
  argv: readonly string[],
  options: ParseArgsConfig['options'],
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (err) {
    throw new SigwardError('USAGE', describeError(err), { cause: err });
  }
}

export function onePositional(positionals: readonly string[], what: string): string {
  if (positionals.length !== 1 || positionals[0] === undefined || positionals[0] === '') {
    throw new SigwardError('USAGE', `expected exactly one ${what}, got ${positionals.length}`);
  }
  return positionals[0];
}

/** `KEY=VALUE` pairs from repeated flags; a pair without `=` or with an empty key is a usage error. */
export function keyValues(pairs: readonly string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new SigwardError('USAGE', `--${flag}: expected KEY=VALUE, got '${pair}'`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}
