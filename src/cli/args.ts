import { parseArgs, type ParseArgsConfig } from 'node:util';
import { SigwardError, describeError } from '../errors.js';
import { closestFlag } from './help.js';

/** parseArgs in strict mode; any unknown flag or missing value is a usage error naming it. */
export function parse(
  argv: readonly string[],
  options: ParseArgsConfig['options'],
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
    return { values: values, positionals };
  } catch (err) {
    throw new SigwardError('USAGE', usageMessage(err, Object.keys(options ?? {})), { cause: err });
  }
}

/**
 * parseArgs' own wording ("Unknown option '--keys'. To specify a positional argument starting
 * with a '-', place it at the end of the command after '--'…") said the way sigward says it,
 * with the flag it most likely meant.
 */
function usageMessage(err: unknown, known: readonly string[]): string {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const message = describeError(err);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-[^']*)'/.exec(message)?.[1]?.slice(0, 100) ?? '?';
    const guess = closestFlag(flag.replace(/^-+/, '').split('=')[0] ?? '', known);
    return `unknown flag ${flag}${guess === undefined ? '' : ` (did you mean --${guess}?)`}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'(--?[\w-]+)/.exec(message)?.[1];
    if (flag !== undefined && message.includes('argument missing')) return `${flag} needs a value`;
    if (flag !== undefined) return `${flag} takes no value`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return message.split('.')[0] ?? message;
  return message;
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
